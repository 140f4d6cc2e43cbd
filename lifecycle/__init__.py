"""docsearch's lifecycle layer: index versions in the MLflow registry, the promotion gate, the
feedback store and the learning loop that turns feedback into a better index.

It builds on the retrieval core (``search``) and on ``evaluation``; the interfaces (``app``,
``dagster_project``) call it. It imports no interface framework.
"""

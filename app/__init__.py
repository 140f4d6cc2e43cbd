"""docsearch's interfaces for people and programs: the ``docsearch`` command line
(``app.cli``) and the Streamlit search and chat app (``app/streamlit_app.py``)."""

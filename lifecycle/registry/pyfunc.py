"""The registered model: an index folder wrapped as an MLflow pyfunc.

MLflow pickles ``IndexModel`` by reference (``lifecycle.registry.pyfunc.IndexModel``): moving or
renaming the class makes the versions registered before unloadable through ``mlflow.pyfunc``
(the app resolves champions by folder, so serving does not depend on it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import mlflow
import pandas as pd

from search.index import SearchIndex

REQUIREMENTS = ("numpy", "pandas", "faiss-cpu", "bm25s", "PyStemmer", "sentence-transformers")
COLUMNS = ["query", "rank", "doc_id", "title", "score", "snippet"]


class IndexModel(mlflow.pyfunc.PythonModel):
    """A pyfunc over an index directory: queries in, ranked documents out.

    ``predict`` takes a list of query strings, one string, or a DataFrame with a ``query``
    column (optional ``k``, default 10, and ``method``, default hybrid, columns). It returns one
    row per result: query, rank, doc_id, title, score, snippet.
    """

    def load_context(self, context) -> None:
        self.index = SearchIndex.load(context.artifacts["index"])

    def predict(
        self, context, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        if isinstance(model_input, str):
            model_input = [model_input]
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame({"query": list(model_input)})
        rows = []
        for _, row in model_input.iterrows():
            k = int(row["k"]) if "k" in row and pd.notna(row["k"]) else 10
            method = row["method"] if "method" in row and pd.notna(row["method"]) else "hybrid"
            for r in self.index.search(str(row["query"]), k=k, method=method):
                rows.append(
                    {
                        "query": row["query"],
                        "rank": r.rank,
                        "doc_id": r.doc_id,
                        "title": r.title,
                        "score": r.score,
                        "snippet": r.snippet.text,
                    }
                )
        return pd.DataFrame(rows, columns=COLUMNS)


def save_index_model(target: Path, index_path: str | Path) -> None:
    """Write the pyfunc model of the index folder ``index_path`` into ``target``."""
    pyfunc_log = logging.getLogger("mlflow.pyfunc")
    level = pyfunc_log.level
    # No signature on purpose: predict takes a list of strings or a DataFrame with optional
    # columns, which one schema cannot express; and the class is pickled by reference.
    pyfunc_log.setLevel(logging.ERROR)
    try:
        mlflow.pyfunc.save_model(
            str(target),
            python_model=IndexModel(),
            artifacts={"index": str(index_path)},
            pip_requirements=requirements(),
        )
    finally:
        pyfunc_log.setLevel(level)


def requirements(names: Iterable[str] = REQUIREMENTS) -> list[str]:
    """Pinned to the versions installed here, so the model loads elsewhere as it was built."""
    out = []
    for name in names:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(name)
    return out

"""Settings of the index backend: FAISS and bm25s files in each version folder (the default), or
collections in Milvus (``search.retrieval.milvus``), a Milvus server or a Milvus Lite file."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

_COLLECTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")


class MilvusSettings(BaseModel):
    index_backend: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="where new index versions keep their dense and BM25 indexes: `faiss` (FAISS and bm25s files in the version folder) or `milvus` (collections in Milvus, named in the version's manifest)",
    )
    milvus_uri: str = Field(
        "",
        description="the Milvus server a `milvus` index backend writes to, e.g. `http://milvus:19530` (empty: a Milvus Lite file `milvus/milvus.db` under the home)",
    )
    milvus_token: str = Field(
        "", description="the token (`user:password` or an API key) Milvus is reached with"
    )
    milvus_collection_prefix: str = Field(
        "docsearch",
        description="the start of every collection name the index writes (letters, digits, underscores)",
    )

    @field_validator("milvus_collection_prefix", mode="after")
    @classmethod
    def _milvus_collection_prefix_name(cls, value: str) -> str:
        if not _COLLECTION_NAME.fullmatch(value):
            raise ValueError(
                "must start with a letter or underscore and hold only letters, digits and "
                "underscores (a Milvus collection name)"
            )
        return value

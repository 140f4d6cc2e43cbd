"""Reading documents: a folder of files or a BEIR corpus, into Documents or Rejections."""

from search.ingest.documents import (
    SUPPORTED_SUFFIXES,
    Document,
    DocumentError,
    LoadReport,
    ParseLimits,
    Rejection,
    load_beir_corpus,
    load_folder,
    parse_file,
)

__all__ = [
    "Document",
    "DocumentError",
    "LoadReport",
    "ParseLimits",
    "Rejection",
    "SUPPORTED_SUFFIXES",
    "load_beir_corpus",
    "load_folder",
    "parse_file",
]

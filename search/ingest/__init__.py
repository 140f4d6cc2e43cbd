"""Reading documents: a folder of files or a BEIR corpus, into Documents or Rejections.

The modules, one concept each: ``model`` (the data shapes and limits), ``text`` (bytes to
text, or a refusal), ``formats`` (one parser per format), ``files`` (one file into one
Document), ``walk`` (the folder as a boundary), ``workers`` (the bounded worker processes),
``folder`` (the load: walk, parse in workers, account for every file) and ``beir``.
"""

from search.ingest.beir import load_beir_corpus
from search.ingest.files import parse_file
from search.ingest.folder import load_folder
from search.ingest.model import (
    SUPPORTED_SUFFIXES,
    Document,
    DocumentError,
    LoadReport,
    ParseLimits,
    Rejection,
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

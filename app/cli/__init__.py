"""The ``docsearch`` command line: one thin command per service of the layers below."""

from app.cli.main import build_parser, main

__all__ = ["build_parser", "main"]

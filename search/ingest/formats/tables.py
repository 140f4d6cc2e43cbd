"""A table as text, the same for every format that has tables (Word, PDF): one line per row,
its cells separated by " | ", a cell's own line breaks turned into spaces and empty cells left
out. HTML tables read the same way (``search.ingest.formats.html``). The line-break rules
(``search.line_breaks``) never join such a row to another line, and the chat's sentence
splitter reads each row as one sentence."""

from __future__ import annotations

from collections.abc import Iterable


def table_text(rows: Iterable[Iterable[str | None]]) -> str:
    """The rows of a table, one line each: ``"E102 | Rear lidar obstructed or dirty | ..."``."""
    lines = []
    for row in rows:
        cells = (" ".join((cell or "").split()) for cell in row)
        line = " | ".join(cell for cell in cells if cell)
        if line:
            lines.append(line)
    return "\n".join(lines)

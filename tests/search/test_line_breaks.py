"""One rule for which line breaks are wraps: the parsers' ``unwrap`` and the chat's sentence
blocks read the same text the same way."""

from __future__ import annotations

from search.chat.sentences import blocks, collapse
from search.line_breaks import unwrap

TEXT = (
    "Business Travel Policy\n"
    "Effective 1 February 2025 for every employee of the company\n"
    "Scope\n"
    "This policy covers travel for customer installations and trade fairs, supplier visits and\n"
    "team offsites. Do not try\n"
    "to book flights yourself.\n"
    "- Trains below 600 km\n"
    "- Flights above\n"
    "Class | Allowed\n"
    "\n"
    "Approval comes from your manager."
)


def test_the_chat_reads_the_breaks_unwrap_joins_and_keeps():
    lines = [line for line in unwrap(TEXT).split("\n") if line]
    read = [collapse(TEXT[start:end]) for start, end in blocks(TEXT)]
    assert read == lines
    # the heading and the line before it stay apart; the wrapped sentence is whole
    assert "Scope" in read and "team offsites. Do not try to book flights yourself." in read[3]

"""Bytes to text: encodings detected per file, a few bad bytes replaced, binary refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from search.ingest import DocumentError
from search.ingest.text import decode_text, normalise

DESSERT = "Café crème brûlée, déjà vu à la carte."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (DESSERT.encode("utf-8"), DESSERT),
        (b"\xef\xbb\xbf" + DESSERT.encode("utf-8"), DESSERT),  # UTF-8 with a BOM
        (DESSERT.encode("utf-16"), DESSERT),  # BOM
        (DESSERT.encode("utf-32"), DESSERT),  # BOM
        (DESSERT.encode("latin-1"), DESSERT),
        # Windows-1250 ties with 1252 on these bytes and would give "crčme": 1252 wins.
        (DESSERT.encode("cp1252"), DESSERT),
        ("“Smart quotes” cost 5 € – naïve".encode("cp1252"), "“Smart quotes” cost 5 € – naïve"),
        (
            "Zażółć gęślą jaźń, to jest polski tekst.".encode("cp1250"),
            "Zażółć gęślą jaźń, to jest polski tekst.",
        ),
        (
            "Привет, это тест поисковой системы документов.".encode("cp1251"),
            "Привет, это тест поисковой системы документов.",
        ),
    ],
)
def test_encodings_are_detected_per_file(raw, expected):
    assert decode_text(raw) == expected


def test_one_bad_byte_in_utf8_is_replaced_not_a_reason_to_redecode_the_file():
    # 4 valid two-byte characters (é, è, û, é) against 1 invalid byte: still UTF-8.
    raw = "café crème brûlée\n".encode() + b"\xff"
    assert decode_text(raw) == "café crème brûlée\n\ufffd"


def test_utf8_with_more_bad_bytes_than_good_characters_is_not_utf8():
    # "Caf\xe9 cr\xe8me": 0 valid multi-byte characters, 2 invalid bytes, so a legacy code page.
    assert decode_text("Café crème".encode("latin-1")) == "Café crème"


def test_a_declared_charset_is_used_when_the_bytes_are_not_utf8():
    raw = "Ĺódź".encode("iso-8859-2")  # C5 F3 64 BC: Windows-1252 reads "Åód¼"
    assert decode_text(raw, declared="iso-8859-2") == "Ĺódź"
    assert decode_text(raw, declared="no-such-charset") == decode_text(raw)  # ignored
    assert decode_text(raw, declared="rot13") == decode_text(raw)  # not a text encoding
    assert decode_text("é".encode(), declared="iso-8859-2") == "é"  # valid UTF-8 wins


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        (Path(sys.executable).resolve().read_bytes()[:4096], "an ELF executable or library"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(100), "a Windows executable"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document), not text; give it the .pdf extension"),
        (b"PK\x03\x04\x14\x00" + bytes(30), "a zip archive, or a .docx or .xlsx file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(20), "a PNG image"),
        (bytes(range(256)) * 16, "it has NUL bytes and no text encoding fits"),
    ],
)
def test_binary_content_is_refused_whatever_the_extension(raw, phrase):
    with pytest.raises(DocumentError, match="binary content") as caught:
        decode_text(raw)
    assert phrase in str(caught.value)


def test_normalise_collapses_space_keeps_paragraphs_and_drops_unwritable_characters():
    text = "  Title \r\n\r\n\r\nline\tone \x00 two\fnext \ud800 end "
    assert normalise(text) == "Title\n\nline one two\n\nnext \ufffd end"
    normalise(text).encode("utf-8")  # no lone surrogate survives

"""Builders of hostile files, all generated in tmp_path (nothing binary is committed)."""

from __future__ import annotations

import io
import os
import socket
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

# The sentences the good files must yield, by file.
GOOD_TEXT = {
    "text/latin1.txt": "Café crème brûlée, déjà vu à la carte.",
    "text/cp1252.txt": "“Smart quotes” cost 5 € – naïve café",
    "text/utf16.txt": "Résumé of the meeting: the café opens at nine.",
    "text/bad-byte.txt": "café crème brûlée",
    "html/nested.html": "deepest words",
    "html/saved-page.html": "The last paragraph mentions zebra crossings.",
    "markdown/underscores.md": "Closing words after the underscores.",
    "odd names/new\nline.txt": "A name with a newline in it.",
    "odd names/ünïcødé 文档.md": "Unicode names are fine.",
    "links/hidden-notes/plan.txt": "The plan behind a link to a hidden folder.",
}


def pdf_with_stream(stream: bytes, flate: bool = True, pages: int = 1) -> bytes:
    """A PDF whose `pages` pages all show content stream `stream` (zlib-compressed if `flate`)."""
    flate = b" /Filter /FlateDecode" if flate else b""
    kids = b" ".join(b"%d 0 R" % (5 + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Length %d%s >>\nstream\n" % (len(stream), flate) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
        b"/Resources << /Font << /F1 4 0 R >> >> >>"
    ] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def slow_pdf_bytes(pages: int = 20) -> bytes:
    """About 10 KB that pypdf needs minutes for: 20 pages that each show the same stream of
    900,000 one-letter text operators (1.8 million tokens, under pypdf's 2 million per stream)."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"(a) Tj " * 900_000 + b"ET"
    return pdf_with_stream(zlib.compress(content, 9), pages=pages)


def pdf_bomb() -> bytes:
    """A content stream of 100 MB of zeros, about 100 KB compressed (pypdf stops at 75 MB)."""
    packer = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    return pdf_with_stream(b"".join(packer.compress(chunk) for _ in range(100)) + packer.flush())


def docx_ratio_bomb(path: Path) -> None:
    """20 MB of zeros that deflate to about 20 KB: a compression ratio near 1000:1."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * 20_000_000)


def saved_web_page(size: int = 1_000_000) -> str:
    """About `size` characters of a page as browsers save it: scripts, styles, navigation, tables."""
    head = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Saved page</title>"
        "<style>" + ".c{color:red}" * 5000 + "</style>"
        "<script>" + "var tracking = 'SCRIPT NOISE';" * 5000 + "</script></head><body>"
        "<nav>" + "<a href='/x'>NAVIGATION NOISE</a>" * 500 + "</nav>"
    )
    row = (
        "<div class='post'><h2>Update</h2><p>Lorem <b>ipsum</b> dolor <a href='#'>sit</a> amet, "
        "<span>consectetur</span> adipiscing.</p><table><tr><td>a</td><td>b</td></tr></table>"
        "<ul><li>one</li><li>two</li></ul></div>\n"
    )
    body = row * max(1, (size - len(head)) // len(row))
    return head + body + "<p>The last paragraph mentions zebra crossings.</p></body></html>"


def _write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _good_files(root: Path) -> None:
    _write(root, "text/latin1.txt", (GOOD_TEXT["text/latin1.txt"] + "\n").encode("latin-1"))
    _write(root, "text/cp1252.txt", (GOOD_TEXT["text/cp1252.txt"] + "\n").encode("cp1252"))
    _write(root, "text/utf16.txt", (GOOD_TEXT["text/utf16.txt"] + "\n").encode("utf-16"))
    _write(root, "text/bad-byte.txt", "café crème brûlée\n".encode() + b"\xff")
    nest = "<div>" * 100_000 + "deepest words" + "</div>" * 100_000
    _write(root, "html/nested.html", f"<html><body>{nest}<p>after the nest</p></body></html>")
    _write(root, "html/saved-page.html", saved_web_page())
    _write(
        root,
        "markdown/underscores.md",
        "__a " * 12_000 + "\n\nClosing words after the underscores.\n",
    )
    for rel in ("odd names/new\nline.txt", "odd names/ünïcødé 文档.md"):
        _write(root, rel, GOOD_TEXT[rel] + "\n")
    _write(root, ".private/plan.txt", GOOD_TEXT["links/hidden-notes/plan.txt"] + "\n")


def _links(root: Path, outside: Path) -> None:
    links = root / "links"
    links.mkdir()
    (outside / "secret.txt").write_text("outside secret\n")
    os.symlink("/etc/passwd", links / "to-passwd.txt")
    os.symlink(outside, links / "to-outside-folder")
    os.symlink(outside / "secret.txt", links / "to-outside-file.txt")
    os.symlink("loop-b.txt", links / "loop-a.txt")
    os.symlink("loop-a.txt", links / "loop-b.txt")
    os.symlink("missing.txt", links / "dangling.txt")
    os.symlink("../text/latin1.txt", links / "same-as-latin1.txt")
    os.symlink("..", links / "up")
    os.symlink("../.private", links / "hidden-notes")
    os.symlink("../special/pipe.txt", links / "to-fifo.txt")


def _hostile_files(root: Path) -> None:
    special = root / "special"
    special.mkdir()
    os.mkfifo(special / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(special / "socket.txt"))
    server.close()  # the socket file stays
    _write(root, "binary/program.txt", Path(sys.executable).resolve().read_bytes()[:200_000])
    _write(root, "binary/random.txt", bytes(range(256)) * 64)
    _write(root, "binary/archive.md", _zip_bytes())
    with open(_write(root, "big/huge.txt", b"x"), "r+b") as handle:
        handle.truncate(60 * 1024 * 1024)  # sparse: 60 MB on paper, nothing on disk
    _write(root, "bombs/pdf-bomb.pdf", pdf_bomb())
    docx_ratio_bomb(root / "bombs" / "ratio-bomb.docx")
    _write(root, "slow/cpu-bomb.pdf", slow_pdf_bytes())
    _write(root, "empty.txt", b"")
    _write(root, "notes.xyz", b"an unsupported suffix\n")
    os.close(os.open(os.fsencode(root) + b"/bad-\xff-name.txt", os.O_CREAT | os.O_WRONLY))


def _zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "zipped text")
    return out.getvalue()


def build_hostile_corpus(root: Path, outside: Path) -> None:
    """Good files in odd encodings and shapes, links in and out, specials, binaries and bombs."""
    root.mkdir(parents=True)
    outside.mkdir(parents=True)
    _good_files(root)
    _links(root, outside)
    _hostile_files(root)


@pytest.fixture(scope="session")
def hostile_corpus(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    build_hostile_corpus(base / "docs", base / "outside")
    return base / "docs"


@pytest.fixture(scope="session")
def slow_pdf() -> bytes:
    """A small PDF that pypdf needs minutes for (see `slow_pdf_bytes`)."""
    return slow_pdf_bytes()


@pytest.fixture(scope="session")
def good_text() -> dict[str, str]:
    """For each good file of the hostile corpus, a sentence its text must hold."""
    return dict(GOOD_TEXT)

"""Text helpers shared by the parsers: bytes to text (or a refusal), whitespace, titles.

Decoding is per file and in this order, each step linear in the file's size:
1. a byte-order mark names the encoding (UTF-8, UTF-16, UTF-32);
2. a known binary signature (an executable, an archive, an image...) or NUL bytes that are
   not UTF-16/32 text mean the file is not text: it is refused with what it looks like;
3. valid UTF-8 is UTF-8; so is UTF-8 with a few bad bytes (more valid multi-byte sequences
   than invalid ones): the bad bytes become U+FFFD and the rest keeps its accents;
4. a charset the file declares (HTML's <meta charset>), if it decodes;
5. otherwise charset-normalizer guesses, and Western European text is read as such. Its
   ranking alone read Western files in the wrong code page ("crème" as "crčme" from
   Windows-1257, "één" from HP Roman-8, "cœur" as "c―ur" from ISO-8859-10). So when its
   guess is a single-byte page (or a multi-byte one with no two-byte character), the better
   Western reading, Windows-1252 or ISO-8859-15, wins if it is no more than 2 points messier
   and either puts fewer symbols inside words or reads as much like a language. Polish,
   Czech, Russian and Japanese bytes read worse as Western text and keep their guess.
   Between the two Western pages: less mess, then more coherence, then ISO-8859-15 when the
   bytes hold A4 (its "€"; Windows-1252's "¤", which nobody types). No plausible encoding:
   refused as binary.
"""

from __future__ import annotations

import codecs
import re

from search.ingest.model import DocumentError

TITLE_MAX_CHARS = 120

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")  # unpaired halves cannot be written as UTF-8
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{2,}")

_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Signatures of common binary files: what to call each in a rejection, and the fix.
_REMOVE = "remove it or convert it to text"
_SIGNATURES = (
    (b"\x7fELF", "an ELF executable or library", _REMOVE),
    (b"%PDF-", "a PDF document", "give it the .pdf extension"),
    (b"PK\x03\x04", "a zip archive, or a .docx or .xlsx file", "give it its own extension"),
    (b"\x1f\x8b", "a gzip archive", _REMOVE),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", _REMOVE),
    (b"\xff\xd8\xff", "a JPEG image", _REMOVE),
    (b"GIF8", "a GIF image", _REMOVE),
    (b"SQLite format 3\x00", "an SQLite database", _REMOVE),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", _REMOVE),
    (b"\xfd7zXZ\x00", "an xz archive", _REMOVE),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc, .xls)", _REMOVE),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable", _REMOVE),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file", _REMOVE),
)
_SNIFF_BYTES = 64 * 1024

# Western European single-byte code pages, preferred where the bytes read well in them.
_WESTERN = ("cp1252", "iso8859_15")
_MESS_MARGIN = 0.02  # how much messier than the best guess a Western reading may be
_EURO_8859_15 = 0xA4  # "€" in ISO-8859-15, "¤" in Windows-1252 and ISO-8859-1
_SYMBOL_IN_WORD = re.compile(r"(?<=[^\W\d_])([^\x00-\x7f])(?=[^\W\d_])")
_WORD_JOINERS = "\u00ad\u00b7\u2019\u2010\u2011"  # soft hyphen, middle dot, apostrophe, hyphens
# Declared labels that mean Windows-1252 in practice (WHATWG Encoding Standard).
_LABEL_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}


def _binary_reason(kind: str, fix: str = _REMOVE) -> str:
    return f"binary content ({kind}), not text; {fix}"


def _bom_codec(raw: bytes) -> str | None:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return codec
    return None


def _refuse_binary(raw: bytes) -> str | None:
    """The codec of BOM-less UTF-16/32 text that has NUL bytes; raise if the bytes are binary."""
    for signature, kind, fix in _SIGNATURES:
        if raw.startswith(signature):
            raise DocumentError(_binary_reason(kind, fix))
    head = raw[:_SNIFF_BYTES]
    if b"\x00" not in head:
        return None
    from charset_normalizer import from_bytes

    guess = from_bytes(head).best()
    if guess is not None and guess.encoding.startswith(("utf_16", "utf_32")):
        return guess.encoding
    if raw.startswith(b"MZ"):
        raise DocumentError(_binary_reason("a Windows executable"))
    raise DocumentError(_binary_reason("it has NUL bytes and no text encoding fits"))


def _mostly_utf8(raw: bytes) -> bool:
    """UTF-8 with a few damaged bytes: more valid multi-byte characters than invalid sequences."""
    decoded = raw.decode("utf-8", errors="replace")
    invalid = decoded.count("\ufffd") - raw.count("\ufffd".encode())
    if invalid == 0:
        return True
    valid_multibyte = len(decoded) - invalid - len(decoded.encode("ascii", errors="ignore"))
    valid_multibyte -= raw.count("\ufffd".encode())  # genuine U+FFFD characters are not evidence
    return valid_multibyte > invalid


def _declared_codec(declared: str | None) -> str | None:
    if not declared:
        return None
    try:
        name = codecs.lookup(declared.strip().lower()).name
        b"a".decode(name, "ignore")  # LookupError for codecs that are not text encodings (rot13)
    except LookupError:
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None  # a label that browsers ignore too: such a page was saved as bytes, not UTF-16
    return _LABEL_ALIASES.get(name, name)


def _guess(raw: bytes) -> str:
    """charset-normalizer's guess, or a Western code page that reads the bytes as well."""
    from charset_normalizer import from_bytes
    from charset_normalizer.utils import is_multi_byte_encoding

    best = from_bytes(raw).best()
    if best is None:
        raise DocumentError(_binary_reason("no text encoding fits its bytes"))
    if is_multi_byte_encoding(best.encoding) and len(str(best)) < len(raw):
        return best.encoding  # Shift-JIS, GB18030... with two-byte characters: no page competes
    western = _western(raw)
    if western is None or western.chaos > best.chaos + _MESS_MARGIN:
        return best.encoding
    odd, odd_of_best = _symbols_in_words(str(western)), _symbols_in_words(str(best))
    if odd < odd_of_best or (odd == odd_of_best and western.coherence >= best.coherence):
        return western.encoding
    return best.encoding


def _symbols_in_words(text: str) -> int:
    """Non-ASCII characters that are not letters yet sit between two letters ("c―ur",
    "Za¿ó³æ"): what a wrong code page makes of accented letters."""
    return sum(
        1
        for m in _SYMBOL_IN_WORD.finditer(text)
        if not m.group(1).isalpha() and m.group(1) not in _WORD_JOINERS
    )


def _western(raw: bytes):
    """The better reading of ``raw`` in a Western code page (a CharsetMatch), None if neither
    reads it as text. Each page is measured alone: charset-normalizer skips a page "similar"
    to one that failed, and ISO-8859-15 text fails in Windows-1252."""
    from charset_normalizer import from_bytes

    readings = [m for m in (from_bytes(raw, cp_isolation=[c]).best() for c in _WESTERN) if m]
    if not readings:
        return None
    euro = _EURO_8859_15 in raw
    return min(readings, key=lambda m: (m.chaos, -m.coherence, (m.encoding == "cp1252") == euro))


def decode_text(raw: bytes, declared: str | None = None) -> str:
    """The text of `raw`, per the steps in the module docstring; DocumentError if it is binary."""
    codec = _bom_codec(raw) or _refuse_binary(raw)
    if codec is None:
        if _mostly_utf8(raw):
            codec = "utf-8"
        else:
            codec = _declared_codec(declared) or _guess(raw)
    return raw.decode(codec, errors="replace")


def without_surrogates(text: str) -> str:
    """`text` with unpaired UTF-16 surrogates (which cannot be written as UTF-8) as U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def normalise(text: str) -> str:
    """Collapse runs of spaces, strip lines, and keep paragraph breaks as a single blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = without_surrogates(_CONTROL_CHARS.sub(" ", text))
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def first_line_title(text: str, fallback: str) -> str:
    """The first non-blank line if it is short enough to be a title, else `fallback`."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) < TITLE_MAX_CHARS else fallback
    return fallback

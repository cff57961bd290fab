"""Form fields must be UTF-8 (O1): find the first text field of a form body that is not.

Why here and not in each handler: Starlette decodes a form field that is not UTF-8 as Latin-1
instead of refusing it, so ``\\xff\\xfe`` would be stored as "ÿþ" — mojibake no handler can tell
from text. ``banso.web.middleware.BufferedBody`` has the whole body before the request goes on and
asks :func:`undecodable_field`; a hit is a 422 naming the field. File parts (those with a
``filename``) are bytes, not text, and are left to the upload validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from python_multipart.multipart import MultipartParser, parse_options_header

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_TEXT_PART_LIMIT = 1024 * 1024  # a text field past this is not checked further (the handlers cap fields far lower)


def is_form(content_type: str) -> bool:
    """Return True for the two HTML form encodings."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in (URLENCODED, MULTIPART)


class Undecodable(NamedTuple):
    """The first form field that is not UTF-8: its name, and whether it carried a content type of its own (a file
    sent without a file name: a client drops ``filename=""``, so the part arrives as a text field)."""

    name: str
    typed: bool = False


def undecodable_field(content_type: str, chunks: Iterable[bytes]) -> Undecodable | None:
    """Return the first form field whose value is not UTF-8, else None (also for non-forms)."""
    kind, options = parse_options_header(content_type)
    if kind == URLENCODED.encode():
        return _urlencoded(b"".join(chunks))
    if kind == MULTIPART.encode() and options.get(b"boundary"):
        return _multipart(options[b"boundary"], chunks)
    return None


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _urlencoded(body: bytes) -> Undecodable | None:
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        name, value = (unquote_to_bytes(part.replace(b"+", b" ")) for part in (name, value))
        if not _decodes(name):
            return Undecodable("?")
        if not _decodes(value):
            return Undecodable(name.decode())
    return None


class _Parts:
    """Multipart callbacks that remember each part's name and whether it is a file, and check text parts."""

    def __init__(self) -> None:
        self.bad: Undecodable | None = None
        self._header_field = b""
        self._header_value = b""
        self._name = ""
        self._is_file = False
        self._typed = False
        self._data = bytearray()

    def on_part_begin(self) -> None:
        self._name, self._is_file, self._typed, self._data = "", False, False, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_field.lower() == b"content-disposition":
            _, options = parse_options_header(self._header_value)
            self._name = options.get(b"name", b"").decode("utf-8", "replace")
            self._is_file = b"filename" in options or b"filename*" in options
        elif self._header_field.lower() == b"content-type":
            self._typed = not self._header_value.lower().startswith(b"text/plain")
        self._header_field = self._header_value = b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._is_file and len(self._data) < _TEXT_PART_LIMIT:
            self._data += data[start:end]

    def on_part_end(self) -> None:
        # A cut at the limit may split a character: only a field within the limit is judged whole.
        whole = len(self._data) < _TEXT_PART_LIMIT
        if self.bad is None and not self._is_file and whole and not _decodes(bytes(self._data)):
            self.bad = Undecodable(self._name or "?", self._typed)


def _multipart(boundary: bytes, chunks: Iterable[bytes]) -> Undecodable | None:
    parts = _Parts()
    parser = MultipartParser(boundary, {
        "on_part_begin": parts.on_part_begin, "on_header_field": parts.on_header_field,
        "on_header_value": parts.on_header_value, "on_header_end": parts.on_header_end,
        "on_part_data": parts.on_part_data, "on_part_end": parts.on_part_end})
    try:
        for chunk in chunks:
            parser.write(chunk)
            if parts.bad is not None:
                break
    except Exception:  # noqa: BLE001 - a malformed body is the form parser's to refuse, with its own message
        return None
    return parts.bad

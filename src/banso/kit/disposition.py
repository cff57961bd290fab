"""The one builder of ``Content-Disposition`` headers for files banso hands out (RFC 6266, RFC 8187/5987).

Every download, export and stamped copy names its file through :func:`content_disposition`, so no
route builds the header by hand: a file name that came from an upload ("報告書.pdf", "a\";b.pdf",
"x\\r\\nSet-Cookie: …", "../../etc/passwd") can neither split the header nor add a parameter.

The header carries

* ``filename="…"``: an ASCII fallback for old clients, every character outside a small safe set
  (letters, digits, ``. - _ ( ) + , = @`` and space) replaced by ``_``, so it never holds a quote, a
  backslash, a semicolon, a percent sign or a control character;
* ``filename*=UTF-8''…``: the intended name percent-encoded (RFC 8187), only when it differs from the
  fallback (a Japanese or otherwise non-ASCII name, or one with characters the fallback replaced).

The intended name is the given one made safe first (:func:`safe_download_name`): the last path segment
only, control and format characters dropped, at most :data:`MAX_NAME` characters (the extension kept),
never empty.
"""

from __future__ import annotations

import unicodedata
from typing import Final
from urllib.parse import quote

MAX_NAME: Final = 150  # characters; browsers and file systems cut longer names anyway (255 bytes on most)
FALLBACK_NAME: Final = "download"
_ASCII_SAFE: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_()+,=@ ")
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MAX_EXTENSION: Final = 16


def safe_download_name(filename: str) -> str:
    """Return ``filename`` as a download may be called: last path segment, no control or format
    character, no leading dots or surrounding blanks, at most :data:`MAX_NAME` characters, never empty."""
    name = unicodedata.normalize("NFC", filename)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # a path is never part of the name (../, C:\…)
    name = "".join(" " if unicodedata.category(ch) in {"Zs", "Zl", "Zp"} or ch in "\t\r\n" else ch
                   for ch in name if ch in "\t\r\n" or unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = " ".join(name.split()).lstrip(".").strip()  # no hidden file, no blanks at either end
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= _MAX_EXTENSION:
            name = stem[:MAX_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME].rstrip()
    return name or FALLBACK_NAME


def ascii_fallback(name: str) -> str:
    """Return ``name`` with every character outside the safe ASCII set replaced by ``_`` (never empty)."""
    fallback = "".join(ch if ch in _ASCII_SAFE else "_" for ch in name).strip()
    return fallback or FALLBACK_NAME


def content_disposition(filename: str | None = None, *, inline: bool = False) -> str:
    """Return the ``Content-Disposition`` value for a file called ``filename`` (none: no name given).

    ``inline`` shows the file in the browser (the viewer's stamped page images); the default,
    ``attachment``, saves it.
    """
    kind = "inline" if inline else "attachment"
    if filename is None:
        return kind
    name = safe_download_name(filename)
    fallback = ascii_fallback(name)
    if fallback == name:
        return f'{kind}; filename="{fallback}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"

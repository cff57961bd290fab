"""How deeply nested a JSON text or a parsed document is, measured without recursion (issue 17, O1).

Python's parsers recurse once per level, so a body of 100,000 ``[`` ends in ``RecursionError`` (a 500,
or FastAPI's bare "There was an error parsing the body"). :class:`JsonNesting` reads the raw text as it
arrives, chunk by chunk, and tells how deep its brackets go before any parser sees it; the request
middleware (``banso.web.nesting``) and the MISP/STIX import use it. :func:`value_depth` measures a
document another parser already built (a YAML registry file), with an explicit stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_DEPTH = 64
"""The deepest nesting a JSON request body may have; no banso request needs more than a handful."""

_SPECIAL = re.compile(rb'["\\\[\]{}]')


def too_deep_message(what: str, limit: int) -> str:
    """Return the bilingual message for a document nested deeper than ``limit`` levels."""
    return f"{what} の入れ子が深すぎます（最大 {limit} 段） / {what} is nested too deeply (more than {limit} levels)"


class JsonNesting:
    """The bracket depth of a JSON text read in pieces; brackets inside strings do not count."""

    def __init__(self) -> None:
        self.depth = 0
        self.deepest = 0
        self._in_string = False
        self._escaped = False  # the previous piece ended inside a string on a backslash

    def feed(self, chunk: bytes) -> int:
        """Read the next piece of the text and return the deepest nesting seen so far."""
        skip = 0 if not self._escaped else 1
        self._escaped = False
        if skip and chunk:
            chunk = chunk[1:]
        after_escape = -1  # index the last backslash in a string makes literal
        for match in _SPECIAL.finditer(chunk):
            at, byte = match.start(), match.group()
            if at == after_escape:
                continue
            if self._in_string:
                if byte == b"\\":
                    after_escape = at + 1
                    if after_escape == len(chunk):
                        self._escaped = True
                elif byte == b'"':
                    self._in_string = False
            elif byte == b'"':
                self._in_string = True
            elif byte in (b"[", b"{"):
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
            elif byte in (b"]", b"}"):
                self.depth = max(0, self.depth - 1)
        return self.deepest


def json_depth(text: str | bytes) -> int:
    """Return how deeply the brackets of a JSON text nest (0 for a scalar)."""
    scanner = JsonNesting()
    return scanner.feed(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)


def value_depth(value: object) -> int:
    """Return how deeply lists and mappings nest in a parsed document (0 for a scalar), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, Mapping):
            children: list[object] = [*current.keys(), *current.values()]
        elif isinstance(current, (list, tuple)):
            children = list(current)
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest

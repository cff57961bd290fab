"""How deeply nested a JSON text or a parsed document is, measured without recursion (issue 17, O1).

Python's parsers recurse once per level, so a body of 100,000 ``[`` ends in ``RecursionError`` (a 500,
or FastAPI's bare "There was an error parsing the body"). :class:`JsonNesting` reads the raw text as it
arrives, chunk by chunk, and tells how deep its brackets go before any parser sees it; the request
middleware (``banso.web.nesting``) and the MISP/STIX import use it. :func:`value_depth` measures a
document another parser already built (a YAML registry file), with an explicit stack.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Mapping
from itertools import accumulate

MAX_DEPTH = 64
"""The deepest nesting a JSON request body may have; no banso request needs more than a handful."""

# A complete JSON string, and the rest of one that a previous piece opened (escapes included).
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*', re.DOTALL)
# Brackets become +1 / -1 (as signed bytes); everything else is deleted.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")


def _rest_of_string(data: bytes) -> int:
    """Return where the string that ``data`` starts inside ends: at its closing quote, a final lone
    backslash, or the end of ``data``."""
    found = _STRING_REST.match(data)
    return found.end() if found else 0


def too_deep_message(what: str, limit: int) -> str:
    """Return the bilingual message for a document nested deeper than ``limit`` levels."""
    return f"{what} の入れ子が深すぎます（最大 {limit} 段） / {what} is nested too deeply (more than {limit} levels)"


class JsonNesting:
    """The bracket depth of a JSON text read in pieces; brackets inside strings do not count."""

    def __init__(self) -> None:
        self.depth = 0
        self.deepest = 0
        self._in_string = False
        self._escaped = False  # the previous piece ended inside a string on the backslash of an escape

    def feed(self, chunk: bytes) -> int:
        """Read the next piece of the text and return the deepest nesting seen so far."""
        # Strings are cut out and brackets counted by C loops (re.sub, translate, accumulate):
        # the scan runs on the event loop for every JSON body, so it must not cost a loop per byte.
        if self._escaped and chunk:
            chunk, self._escaped = chunk[1:], False
        if self._in_string:
            end = _rest_of_string(chunk)
            if end == len(chunk):
                return self.deepest
            if chunk[end:end + 1] == b"\\":  # the piece ends on the backslash of an escape
                self._escaped = True
                return self.deepest
            chunk, self._in_string = chunk[end + 1:], False  # past the closing quote
        outside = _STRING.sub(b"", chunk)
        quote = outside.find(b'"')
        if quote >= 0:  # a string opens here and runs into the next piece
            tail = outside[quote + 1:]
            self._escaped = _rest_of_string(tail) < len(tail)
            self._in_string, outside = True, outside[:quote]
        steps = array("b", outside.translate(_STEPS, _NOT_BRACKETS))
        if steps:
            self.deepest = max(self.deepest, max(accumulate(steps, initial=self.depth)))
            self.depth += sum(steps)
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

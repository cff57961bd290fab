"""A work's searchable text (T1): lower-cased title, newline, lower-cased abstract rebuilt from its index.

The store keeps each work's ``title`` and its ``abstract_index`` — the snapshot's
``abstract_inverted_index`` as compact JSON text (``{"word":[0,7],"next":[1]}``), exactly as DuckDB's
JSON type writes it — instead of the rebuilt abstract. Rebuilding every abstract while reading the
snapshot cost half of the ingest (DuckDB building a MAP per record, then sorting its positions); the
text is only needed for keyword matching, where most works can be ruled out from the index text alone
(:mod:`banso.analytics.keywords`), so the rebuild now happens only there, for the few that cannot.

``INDEX_SHAPE`` is the regular expression the ingest checks every index against, so that a stored
index always decodes here; an index of another shape is read as missing, like any field of the wrong
type.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

# A JSON object of word → list of positions, in DuckDB's compact form: no spaces, keys
# JSON strings (escapes allowed), positions non-negative integers of at most 9 digits (the
# decoder below checks the same bound, so both ways of reading a snapshot accept the same records).
_KEY = r'"(?:[^"\\]|\\.)*"'
_POSITIONS = r"\[(?:\d{1,9}(?:,\d{1,9})*)?\]"
INDEX_SHAPE = rf"\{{(?:{_KEY}:{_POSITIONS}(?:,{_KEY}:{_POSITIONS})*)?\}}"

Pos = Annotated[int, msgspec.Meta(ge=0, le=999_999_999)]
_INDEX = msgspec.json.Decoder(dict[str, list[Pos]])


def abstract_text(index: dict[str, list[int]] | None) -> str:
    """Rebuild an abstract from its inverted index.

    Words sorted by position; words sharing a position keep the index's order; gaps vanish.

    >>> abstract_text({"b": [1], "a": [0, 2]})
    'a b a'
    >>> abstract_text({"x": [3], "y": [3]}), abstract_text(None), abstract_text({})
    ('x y', '', '')
    """
    if not index:
        return ""
    n = 0
    for ps in index.values():
        n += len(ps)
    # Fast path: positions 0..n-1 each used once (the usual case) fill a list of slots directly.
    slots: list[str | None] = [None] * n
    for w, ps in index.items():
        for p in ps:
            if p >= n or slots[p] is not None:
                return _abstract_sorted(index)
            slots[p] = w
    return " ".join(slots)  # type: ignore[arg-type]  # every slot was filled: n distinct positions < n


def _abstract_sorted(index: dict[str, list[int]]) -> str:
    pairs = [(p, w) for w, ps in index.items() for p in ps]
    pairs.sort(key=lambda x: x[0])  # stable: ties keep the index's word order
    return " ".join(w for _, w in pairs)


def decode_index(index_json: str | bytes | None) -> dict[str, list[int]] | None:
    """Decode a stored ``abstract_index``; raise ``ValueError`` when it is not word → positions.

    >>> decode_index('{"a":[0],"b":[1]}')
    {'a': [0], 'b': [1]}
    >>> decode_index(None) is None
    True
    """
    if index_json is None:
        return None
    try:
        return _INDEX.decode(index_json)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"abstract_inverted_index is not word → positions: {exc}") from None


def work_text(title: str | None, index_json: str | bytes | None) -> str:
    """Return the text keyword phrases are matched against: ``lower(title) + "\\n" + lower(abstract)``.

    >>> work_text("Quantum Key", '{"arrays":[3],"We":[0],"study":[1],"qubit":[2]}')
    'quantum key\\nwe study qubit arrays'
    >>> work_text(None, None)
    '\\n'
    """
    return ((title or "") + "\n" + abstract_text(decode_index(index_json))).lower()

"""Store format 2 (T1): abstracts kept as their index JSON, texts rebuilt only where a keyword may occur."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banso.analytics.ingest import ingest
from banso.analytics.keywords import KeywordMatcher
from banso.analytics.technologies import parse_technologies
from banso.analytics.texts import INDEX_SHAPE, decode_index, work_text
from tests.support.openalex import read_records, work, write_part

# Letters that make trouble: case pairs, Greek sigma (context-dependent lower case), dotted I (lowers
# to two code points), characters JSON escapes, spaces inside a word, and plain ASCII.
# JSON's own punctuation and digits (which also make up the position lists) as well.
ALPHABET = "abcqQUBITΣσςİiı\"\\/ \n\té日本-05:,[]{}"
words = st.text(ALPHABET, min_size=1, max_size=6)


def _index_json(index: dict[str, list[int]]) -> str:
    # What the ingest stores: DuckDB's compact JSON of the record's index.
    return str(_CON.execute("SELECT CAST(json(?) AS VARCHAR)", [json.dumps(index)]).fetchall()[0][0])


_CON = duckdb.connect()


@st.composite
def works_and_phrases(draw: st.DrawFn) -> tuple[list[str | None], list[str | None], list[str]]:
    phrases = draw(st.lists(st.text(ALPHABET, min_size=1, max_size=8).filter(str.strip), min_size=1, max_size=5))
    titles: list[str | None] = []
    indexes: list[str | None] = []
    for _ in range(draw(st.integers(1, 6))):
        titles.append(draw(st.none() | st.text(ALPHABET, max_size=12)))
        vocab = draw(st.lists(words, max_size=6, unique=True))
        index: dict[str, list[int]] = {}
        for w in vocab:
            index[w] = draw(st.lists(st.integers(0, 8), min_size=1, max_size=3))  # collisions and gaps too
        indexes.append(None if draw(st.booleans()) and not index else _index_json(index))
    return titles, indexes, [p.lower() for p in phrases]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(works_and_phrases())
def test_screen_never_loses_a_match(case: tuple[list[str | None], list[str | None], list[str]]) -> None:
    # match_works rules works out from the title and the index JSON; it must find exactly what matching
    # every rebuilt text finds, whatever the phrases and words hold.
    titles, indexes, phrases = case
    techs = parse_technologies({"technologies": [
        {"id": f"t{i}", "name_ja": "技", "name_en": "T", "keywords": [p]} for i, p in enumerate(phrases)]})
    m = KeywordMatcher(techs)
    expected = m.match([work_text(t, i) for t, i in zip(titles, indexes, strict=True)])
    assert m.match_works(titles, indexes) == expected


def _screened(techs: list[dict[str, object]], title: str | None, index: str | None) -> set[str] | None:
    """The technologies the screen settles for one work, or None when it asks for the rebuilt text."""
    ts = parse_technologies({"technologies": techs})
    m = KeywordMatcher(ts)
    settled, rebuild = m._screen.screen([title], [index])
    if rebuild[0]:
        return None
    return {t.id for t, hit in zip(ts.technologies, settled[0], strict=True) if hit}


def test_screen_rebuilds_only_what_it_cannot_settle() -> None:
    q = [{"id": "q", "name_ja": "量子", "name_en": "Q", "keywords": ["quantum computing", "qubit"]}]
    assert _screened(q, "A study", _index_json({"ocean": [0], "floor": [1]})) == set()
    assert _screened(q, "A study", _index_json({"computing": [1], "Quantum": [0]})) is None  # rebuilt
    assert _screened(q, "QUBIT arrays", None) == {"q"}  # settled by the one-token phrase, no rebuild
    assert _screened(q, "A study", _index_json({"qubits": [0], "computing": [1], "quantum": [5]})) == {"q"}
    assert _screened(q, "quantum", _index_json({"annealing": [0]})) == set()  # one of two tokens only
    # Both words present, but "quantum" only inside a longer word's start and "computing" only at a
    # word's end: the phrase cannot occur in the abstract, so no rebuild.
    assert _screened(q, "A", _index_json({"quantumness": [0], "precomputing": [1]})) == set()
    assert _screened(q, "Quantum computing", None) is None  # both tokens in the title: rebuilt
    # A key may hold spaces (the phrase then sits inside one word, or spans words at an inner space).
    assert _screened(q, "A", _index_json({"big quantum computing": [0]})) is None
    assert _screened(q, "A", _index_json({"x quantum": [0], "computing y": [1]})) is None
    m = KeywordMatcher(parse_technologies({"technologies": [
        {"id": "s", "name_ja": "s", "name_en": "S", "keywords": ["deep sea floor"]}]}))
    assert m.match_works(["A", "B", "C"], [_index_json({"the deep sea": [0], "floor": [1]}),
                                           _index_json({"deep": [0], "sea floor": [1]}),
                                           _index_json({"deep": [0], "floor": [2], "sea": [1]})]) == \
        [(0, "s"), (1, "s"), (2, "s")]
    n = [{"id": "n", "name_ja": "n", "name_en": "N", "keywords": ["1,2"]}]
    assert _screened(n, "A", _index_json({"x": [1, 2]})) is None  # found in positions only: not settled


def test_stored_index_is_the_records_index(real_data: Path, tmp_path: Path) -> None:
    ingest(real_data, tmp_path / "store")
    stored = dict(duckdb.sql(
        f"SELECT work_id, abstract_index FROM '{tmp_path / 'store' / 'parts'}/*.parquet'").fetchall())
    records = {int(r["id"].rsplit("W", 1)[1]): r.get("abstract_inverted_index") for r in read_records(real_data)}
    assert stored.keys() == records.keys()
    with_index = [k for k, v in records.items() if v]
    assert len(with_index) > 1000
    for k, v in records.items():
        assert (json.loads(stored[k]) if stored[k] is not None else None) == v, k
        assert stored[k] is None or re.fullmatch(INDEX_SHAPE, stored[k])
        assert decode_index(stored[k]) == v


@pytest.mark.parametrize("decoder", ["duckdb", "msgspec"])
def test_index_of_another_shape_is_read_as_missing(tmp_path: Path, decoder: str) -> None:
    # Like any field of the wrong type (docs/analytics.md): the line is read, the index is missing.
    snap = tmp_path / "snap"
    shapes = ["we study qubits", {"qubit": "x"}, {"qubit": [-1]}, {"qubit": [1.5]}, {"qubit": [10**10]},
              [["qubit", 0]], {"qubit": [[0]]}]
    recs = [work(1, title="Plain", abstract="qubit arrays")]
    for n, shape in enumerate(shapes, start=2):
        r = work(n, title="Plain")
        r["abstract_inverted_index"] = shape
        recs.append(r)
    write_part(snap, "2025-01-01", "part_000.gz", recs)
    r = ingest(snap, tmp_path / "store", decoder=decoder)
    assert (r.rows_read, r.malformed, r.works_in_store) == (len(recs), 0, len(recs))
    rows = dict(duckdb.sql(f"SELECT work_id, abstract_index FROM '{tmp_path / 'store' / 'parts'}/*.parquet'")
                .fetchall())
    assert json.loads(rows.pop(1)) == {"qubit": [0], "arrays": [1]}
    assert rows == dict.fromkeys(range(2, len(recs) + 1))


def test_phrases_with_json_escapes_are_found() -> None:
    # A phrase holding a character JSON escapes (quote, backslash, tab) is not written verbatim in the
    # index JSON; such works hold a backslash and are rebuilt.
    techs = parse_technologies({"technologies": [
        {"id": "x", "name_ja": "x", "name_en": "X", "keywords": ['a"b', "c\\d", "e\tf"]}]})
    m = KeywordMatcher(techs)
    idx = [_index_json({'za"bz': [0]}), _index_json({"c\\d": [0]}), _index_json({"e\tf": [0]}), _index_json({"ab": [0]})]
    assert m.match_works([None] * 4, idx) == [(0, "x"), (1, "x"), (2, "x")]


def test_escaped_index_json_is_always_rebuilt() -> None:
    # An index written by another JSON writer may escape any character (é as \u00e9): such a work is
    # rebuilt rather than screened.
    techs = parse_technologies({"technologies": [
        {"id": "c", "name_ja": "c", "name_en": "C", "keywords": ["café"]}]})
    assert KeywordMatcher(techs).match_works(["Le"], ['{"caf\\u00e9":[0]}']) == [(0, "c")]


def test_phrase_across_title_and_abstract() -> None:
    # The text is title + newline + abstract: a phrase holding a newline may span both.
    techs = parse_technologies({"technologies": [
        {"id": "s", "name_ja": "s", "name_en": "S", "keywords": ["ocean\nfloor"]}]})
    m = KeywordMatcher(techs)
    if "ocean\nfloor" not in m.phrases:
        pytest.skip("the technology file reader normalises newlines in phrases")
    assert m.match_works(["Deep ocean"], [_index_json({"floor": [0], "maps": [1]})]) == [(0, "s")]


def test_finds_running_into_the_next_work_do_not_count() -> None:
    # The screen runs over a whole row group's strings at once: "quan" + "tum" must not make a
    # "quantum" in either work, in titles or in index texts.
    q = parse_technologies({"technologies": [
        {"id": "q", "name_ja": "量子", "name_en": "Q", "keywords": ["quantum"]},
        {"id": "c", "name_ja": "計算", "name_en": "C", "keywords": ["quantum computing"]}]})
    m = KeywordMatcher(q)
    assert m.match_works(["x quan", "tum y", "quantum"], [None, None, None]) == [(2, "q")]
    # '{"a":[0],"quan' ends one index text only in a broken JSON; use keys at the ends instead:
    # the first text ends with ']}' and the next starts with '{"', so a phrase holding '}{' is the test.
    b = KeywordMatcher(parse_technologies({"technologies": [
        {"id": "b", "name_ja": "b", "name_en": "B", "keywords": ["]}{"]}]}))
    assert b.match_works([None, None], [_index_json({"a": [0]}), _index_json({"b": [0]})]) == []
    assert b.match_works([None], [_index_json({"x]}{y": [0]})]) == [(0, "b")]


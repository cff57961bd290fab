"""Keyword membership (T1), matched once per store part and kept in the store.

A work belongs to a technology when one of its keyword phrases occurs, case-insensitively, as a
substring of the work's text (lower-cased title, newline, lower-cased abstract —
:func:`banso.analytics.texts.work_text`; keywords are lower-cased when the technology file is read).
The store keeps the abstract as its index (JSON text); most works are settled from the title and that
JSON by the phrases' tokens (:mod:`banso.analytics.screen`), and only the rest are rebuilt. :func:`banso.analytics.expressions.membership`
states this as regular expressions of escaped literals; here the same test runs as one
Aho–Corasick automaton (``ahocorasick-rs``, DFA, overlapping matches, so every phrase occurring in
a text is seen even where phrases overlap), which is several times faster than one regular
expression per technology. ``tests/analytics/test_keywords.py`` checks both give the same pairs.

The hits of each part are written to ``STORE/cache/keywords-<spec>/<part>--<stamp>.parquet``:
``<spec>`` is a hash of the technologies' keyword lists (topics play no part here), ``<stamp>`` one
of the part file's size and modification time, so a re-ingested part or a changed technology file
never reuses old hits. ``banso analyze ingest`` fills this cache for the technology file it is given
(the shipped one by default); ``indicators`` reads it and matches only the parts still missing.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import json
import multiprocessing
import os
import sys
import types
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import ahocorasick_rs
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from banso.analytics.errors import StoreError
from banso.analytics.screen import KeywordScreen
from banso.analytics.technologies import TechnologySet
from banso.analytics.texts import work_text

KEYWORDS_VERSION = 2  # 2: texts rebuilt from title + abstract_index (store format 2)
HIT_SCHEMA = pa.schema([
    ("work_id", pa.int64()),
    ("partition_date", pa.string()),
    ("part_seq", pa.int32()),
    ("technology", pa.string()),
])


def keyword_spec(technologies: TechnologySet) -> str:
    """Return a short hash of the technologies' keyword phrases (what the cached hits depend on).

    Examples
    --------
    >>> from banso.analytics.technologies import parse_technologies
    >>> a = parse_technologies({"technologies": [
    ...     {"id": "q", "name_ja": "量子", "name_en": "Quantum", "topics": ["T7"], "keywords": ["qubit"]}]})
    >>> b = parse_technologies({"technologies": [
    ...     {"id": "q", "name_ja": "量子", "name_en": "Q", "topics": ["T8"], "keywords": ["Qubit"]}]})
    >>> keyword_spec(a) == keyword_spec(b)
    True
    """
    spec = sorted([t.id, sorted(t.keywords)] for t in technologies.technologies if t.keywords)
    raw = json.dumps([spec, KEYWORDS_VERSION], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class KeywordMatcher:
    """Find the technologies whose keyword phrases occur in texts.

    Examples
    --------
    >>> from banso.analytics.technologies import parse_technologies
    >>> ts = parse_technologies({"technologies": [
    ...     {"id": "ai", "name_ja": "AI", "name_en": "AI", "keywords": ["neural network"]},
    ...     {"id": "net", "name_ja": "網", "name_en": "Net", "keywords": ["network"]}]})
    >>> m = KeywordMatcher(ts)
    >>> m.match(["graph neural networks", None, "none here"])
    [(0, 'ai'), (0, 'net')]
    >>> m.match_works(["Graph", "Neural", None], ['{"neural":[0],"networks":[1]}', None, '{"nets":[0]}'])
    [(0, 'ai'), (0, 'net')]
    """

    def __init__(self, technologies: TechnologySet) -> None:
        owners: dict[str, list[str]] = {}
        for t in technologies.technologies:
            for k in t.keywords:
                owners.setdefault(k, [])
                if t.id not in owners[k]:
                    owners[k].append(t.id)
        self.phrases = list(owners)
        self._owners = [tuple(owners[k]) for k in self.phrases]
        self._order = {t.id: i for i, t in enumerate(technologies.technologies)}
        self._ac = (ahocorasick_rs.AhoCorasick(self.phrases, implementation=ahocorasick_rs.Implementation.DFA)
                    if self.phrases else None)
        # match_works rebuilds only the texts the screen cannot settle (banso.analytics.screen).
        self._tech_ids = [t.id for t in technologies.technologies]
        self._screen = KeywordScreen(self.phrases, [[self._order[t] for t in o] for o in self._owners],
                                     len(self._tech_ids))

    def match(self, texts: Iterable[str | None]) -> list[tuple[int, str]]:
        """Return (row index, technology id) for every text that contains a phrase of the technology."""
        out: list[tuple[int, str]] = []
        if self._ac is None:
            return out
        for i, text in enumerate(texts):
            if text:
                out.extend((i, t) for t in self._technologies(text))
        return out

    def match_works(self, titles: Sequence[str | None], indexes: Sequence[str | None]) -> list[tuple[int, str]]:
        """Like :meth:`match` on ``texts.work_text(title, index)``, rebuilding only the texts that need it."""
        if self._ac is None:
            return []
        settled, rebuild = self._screen.screen(titles, indexes)
        settled[rebuild] = False
        rows, cols = np.nonzero(settled)  # row-major: by work, then in technology order
        pairs = list(zip(rows.tolist(), cols.tolist(), strict=True))
        for i in np.flatnonzero(rebuild).tolist():
            pairs.extend((i, self._order[t]) for t in self._technologies(work_text(titles[i], indexes[i])))
        pairs.sort()
        return [(i, self._tech_ids[c]) for i, c in pairs]

    def _technologies(self, text: str) -> list[str]:
        assert self._ac is not None
        found = self._ac.find_matches_as_indexes(text, overlapping=True)
        if not found:
            return []
        owners = self._owners
        techs = {t for k, _, _ in found for t in owners[k]}
        return sorted(techs, key=self._order.__getitem__)


MATCH_BATCH_ROWS = 4096  # one row group of a part: bounds a worker's memory, whatever the part's size


def match_part(part: Path, matcher: KeywordMatcher) -> pa.Table:
    """Return the keyword hits (``HIT_SCHEMA``) of every row of one store part, read a row group at a time."""
    tables = []
    columns = ["work_id", "partition_date", "part_seq", "title", "abstract_index"]
    for batch in pq.ParquetFile(part).iter_batches(batch_size=MATCH_BATCH_ROWS, columns=columns):
        try:
            hits = matcher.match_works(batch["title"].to_pylist(), batch["abstract_index"].to_pylist())
        except ValueError as exc:  # the ingest checked every index: this part was changed since
            raise StoreError(f"ストアのパーツ {part} に読めない抄録索引があります（{exc}）。取り込み直してください / "
                             f"store part {part} holds an unreadable abstract index ({exc}); re-ingest") from None
        rows = pa.array([i for i, _ in hits], pa.int64())
        tables.append(pa.table({
            "work_id": batch["work_id"].take(rows).cast(pa.int64()),
            "partition_date": batch["partition_date"].take(rows).cast(pa.string()),
            "part_seq": batch["part_seq"].take(rows).cast(pa.int32()),
            "technology": pa.array([tech for _, tech in hits], pa.string()),
        }, schema=HIT_SCHEMA))
    return pa.concat_tables(tables) if tables else HIT_SCHEMA.empty_table()


def _hits_dir(store: Path, spec: str) -> Path:
    return store / "cache" / f"keywords-{spec}"


def _hits_path(store: Path, spec: str, part: Path) -> Path:
    st = part.stat()
    stamp = hashlib.sha256(f"{part.name}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return _hits_dir(store, spec) / f"{part.stem}--{stamp}.parquet"


def part_hits(store: Path, part: Path, matcher: KeywordMatcher, spec: str) -> pa.Table:
    """Return the hits of ``part``: the kept ones, or matched now and kept (in memory only when the store is read-only)."""
    path = _hits_path(store, spec, part)
    if path.is_file():
        return pq.read_table(path, schema=HIT_SCHEMA)
    table = match_part(part, matcher)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name("." + path.name + ".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{part.stem}--*.parquet"):
            if old != path:
                old.unlink(missing_ok=True)  # hits of an earlier version of this part
    except OSError:
        pass  # read-only store: the caller still gets the hits
    return table


# Matching is Python work that holds the GIL. In a thread beside DuckDB's readers it stalls them (the
# DuckDB client takes the GIL to check for interrupts): measured on 100k works, 13.8 s instead of 11 s
# run one after the other. So a large job goes to worker processes; a small one runs inline, where a
# process would cost more to start than it saves.
PROCESS_MIN_BYTES = 32 << 20
_WORKER: tuple[str, KeywordMatcher] | None = None


def _match_in_worker(store: Path, part: Path, technologies: TechnologySet) -> None:
    """Match one part in a worker process (the matcher is built once per process and technology file)."""
    global _WORKER
    spec = keyword_spec(technologies)
    if _WORKER is None or _WORKER[0] != spec:
        _WORKER = (spec, KeywordMatcher(technologies))
    part_hits(store, part, _WORKER[1], spec)


class _NoPandas(importlib.abc.MetaPathFinder):
    """Refuse to import pandas: installed in the matching workers only (:func:`_worker_init`)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] == "pandas":
            raise ModuleNotFoundError("pandas is not used by the keyword-matching workers", name=fullname)
        return None


def _worker_init() -> None:
    """Start a matching worker without pandas.

    pyarrow imports pandas, when it is installed, the first time it builds an array from Python objects
    (to check whether they are pandas objects): ≈ 0.3 CPU-s of each worker's start for nothing, the
    workers never see a pandas object. Refused, pyarrow notes pandas as absent and carries on.
    """
    sys.meta_path.insert(0, _NoPandas())


def _pool(processes: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)


class PartMatcher:
    """Match the keywords of store parts as they are written (used by the ingest).

    With ``background`` the parts are matched in one worker process while the caller reads on;
    :meth:`finish` waits for them (and raises what a worker raised).
    """

    def __init__(self, store: Path, technologies: TechnologySet, *, background: bool) -> None:
        self.store = store
        self.technologies = technologies
        self.spec = keyword_spec(technologies)
        self._pool = _pool(max(1, min(2, os.cpu_count() or 1))) if background else None
        self._matcher = None if background else KeywordMatcher(technologies)
        self._futures: list[Future[None]] = []

    def submit(self, part: Path) -> None:
        """Match ``part`` now, or queue it for the worker."""
        if self._pool is not None:
            self._futures.append(self._pool.submit(_match_in_worker, self.store, part, self.technologies))
        else:
            assert self._matcher is not None
            part_hits(self.store, part, self._matcher, self.spec)

    def finish(self) -> None:
        """Wait for every queued part."""
        for f in self._futures:
            f.result()
        self.close()

    def close(self) -> None:
        """Stop the worker (queued parts not yet started are dropped: matched later when missing)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _missing(store: Path, spec: str, parts: Sequence[Path]) -> list[Path]:
    return [p for p in parts if not _hits_path(store, spec, p).is_file()]


def _matched_by_workers(store: Path, missing: list[Path], technologies: TechnologySet, threads: int | None) -> bool:
    """Match a large job's parts in worker processes (``threads`` of them, default the CPU count); False when small."""
    n = max(1, min(threads or os.cpu_count() or 1, len(missing)))
    if n < 2 or sum(p.stat().st_size for p in missing) < PROCESS_MIN_BYTES:
        return False
    pool = _pool(n)
    try:
        for f in [pool.submit(_match_in_worker, store, p, technologies) for p in missing]:
            f.result()
    finally:
        pool.shutdown(cancel_futures=True)
    return True


def match_missing(store: Path, parts: Sequence[Path], technologies: TechnologySet, *,
                  threads: int | None = None) -> list[Path]:
    """Match and keep the hits of the parts that have none for these keywords yet; return those parts."""
    spec = keyword_spec(technologies)
    missing = _missing(store, spec, parts)
    if missing and not _matched_by_workers(store, missing, technologies, threads):
        matcher = KeywordMatcher(technologies)
        for part in missing:
            part_hits(store, part, matcher, spec)
    return missing


def store_hits(store: Path, parts: Sequence[Path], technologies: TechnologySet, *,
               threads: int | None = None) -> tuple[pa.Table, int]:
    """Return the keyword hits of every part (all years, every stored version) and how many parts were matched now."""
    spec = keyword_spec(technologies)
    missing = _missing(store, spec, parts)
    if missing:
        _matched_by_workers(store, missing, technologies, threads)  # else matched below, one by one
    matcher = KeywordMatcher(technologies)
    tables = [part_hits(store, p, matcher, spec) for p in parts]
    table = pa.concat_tables(tables) if tables else HIT_SCHEMA.empty_table()
    return table, len(missing)


def prune(store: Path, technologies: TechnologySet, parts: Sequence[Path]) -> None:
    """Remove cached hits of parts that are no longer in the store (for this technology file)."""
    d = _hits_dir(store, keyword_spec(technologies))
    if not d.is_dir():
        return
    keep = {p.stem for p in parts}
    for f in d.glob("*.parquet"):
        if f.name.rsplit("--", 1)[0] not in keep:
            f.unlink(missing_ok=True)

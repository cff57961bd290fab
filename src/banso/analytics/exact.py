"""The indicators' rational sums, added up exactly, and every rank and tie decided on exact values (T4).

The engine (DuckDB or Spark) returns each fractional sum as integer terms grouped by denominator
(:func:`banso.analytics.expressions.exact_terms`); here they become :class:`fractions.Fraction`, so a
country at 1/6 + 1/6 ties with one at 1/3, and an institution at 1/5 · 4 with one at 4/5. Ranks,
leaders, runners-up, the top-10 institutions and the monopoly thresholds are decided on these values;
floats appear only in the output columns, each the correctly rounded value of its exact number (equal
numbers give equal floats). Pure Python over small Arrow tables: no engine, no files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import TypeVar

import pyarrow as pa

Key = tuple[str, str, str]

INDICATOR_SCHEMA = pa.schema([
    ("technology", pa.string()), ("country", pa.string()), ("window_start", pa.int64()),
    ("window_end", pa.int64()), ("papers_whole", pa.int64()), ("papers_fractional", pa.float64()),
    ("top10_whole", pa.float64()), ("top10_fractional", pa.float64()), ("top10_share_whole", pa.float64()),
    ("top10_share_fractional", pa.float64()), ("rank_top10_fractional", pa.int64()), ("rca", pa.float64()),
    ("cagr", pa.float64()), ("h_index", pa.int64()), ("intl_collab_share", pa.float64()),
])
TECHNOLOGY_SCHEMA = pa.schema([
    ("technology", pa.string()), ("window_start", pa.int64()), ("window_end", pa.int64()),
    ("papers", pa.int64()), ("leader", pa.string()), ("runner_up", pa.string()), ("lead_ratio", pa.float64()),
    ("leader_top10_institutions", pa.int64()), ("monopoly_risk", pa.string()), ("hhi", pa.float64()),
    ("japan_rank", pa.int64()), ("japan_top10_share", pa.float64()), ("japan_gap_to_leader", pa.float64()),
    ("unknown_country_share", pa.float64()),
])
TOP_INSTITUTIONS_SCHEMA = pa.schema([
    ("technology", pa.string()), ("scope", pa.string()), ("country", pa.string()), ("rank", pa.int64()),
    ("institution_id", pa.int64()), ("institution", pa.string()), ("ror", pa.string()),
    ("top10", pa.float64()), ("window_start", pa.int64()), ("window_end", pa.int64()),
])
ZERO = Fraction(0)
K = TypeVar("K", bound=Hashable)


def fold(rows: Iterable[tuple[K, int, int]]) -> dict[K, Fraction]:
    """Add up ``num / den`` per key exactly.

    >>> fold([("a", 3, 1), ("a", 6, 1), ("a", 6, 1), ("b", 5, 4)])
    {'a': Fraction(2, 3), 'b': Fraction(4, 5)}
    """
    acc: dict[K, list[int]] = {}
    for key, den, num in rows:
        if not num:
            acc.setdefault(key, [0, 1])
            continue
        a = acc.setdefault(key, [0, den])
        if a[1] != den:  # integers over a common denominator: cheaper than a Fraction per row
            common = lcm(a[1], den)
            a[0] *= common // a[1]
            a[1] = common
        a[0] += num * (a[1] // den)
    return {k: Fraction(n, d) for k, (n, d) in acc.items()}


def _f(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


def competition_ranks(values: dict[str, Fraction]) -> dict[str, int]:
    """Return 1 + the number of strictly larger values, per key (equal values share a rank).

    >>> competition_ranks({"A": Fraction(1, 3), "B": Fraction(2, 6), "C": Fraction(1, 2)})
    {'A': 2, 'B': 2, 'C': 1}
    """
    ordered = sorted(values.values(), reverse=True)
    first: dict[Fraction, int] = {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i + 1)
    return {k: first[v] for k, v in values.items()}


@dataclass(frozen=True)
class Terms:
    """The exact sums of one run, from :func:`banso.analytics.expressions.exact_terms` and friends."""

    sums: dict[Key, Fraction]
    world_known: int

    @classmethod
    def from_table(cls, terms: pa.Table, world_known: int) -> Terms:
        """Fold the (technology, key, measure, den, num) table."""
        cols = [terms[c].to_pylist() for c in ("technology", "key", "measure", "den", "num")]
        rows = (((t, k, m), d, n) for t, k, m, d, n in zip(*cols, strict=True))
        return cls(fold(rows), world_known)

    def get(self, technology: str, key: str, measure: str) -> Fraction:
        """Return a measure's exact value (0 when no work contributed)."""
        return self.sums.get((technology, key, measure), ZERO)


def _ratio(a: Fraction, b: Fraction) -> Fraction | None:
    return a / b if b else None


def indicator_rows(counts: pa.Table, terms: Terms, known: dict[str, int], start: int, end: int) -> pa.Table:
    """Return the ``indicators`` table: ``counts`` (from ``country_counts``) with the exact columns added.

    ``known``: per technology, its works with a known country (RCA's ``P_t``).
    """
    rows = counts.to_pylist()
    top10 = defaultdict(dict)  # type: defaultdict[str, dict[str, Fraction]]
    for r in rows:
        top10[r["technology"]][r["country"]] = terms.get(r["technology"], r["country"], "top10")
    ranks = {t: competition_ranks(v) for t, v in top10.items()}
    out = []
    for r in rows:
        t, c = r["technology"], r["country"]
        papers = terms.get(t, c, "papers")
        first, last = terms.get(t, c, "first"), terms.get(t, c, "last")
        world = Fraction(known[t], terms.world_known)
        growth = _ratio(last, first) if end > start else None
        out.append({
            **r, "window_start": start, "window_end": end,
            "papers_fractional": float(papers),
            "top10_whole": float(terms.get(t, c, "top10_whole")),
            "top10_fractional": float(top10[t][c]),
            "top10_share_whole": _f(_ratio(terms.get(t, c, "top10_whole"), terms.get(t, "", "w_all"))),
            "top10_share_fractional": _f(_ratio(top10[t][c], terms.get(t, "", "w_known"))),
            "rank_top10_fractional": ranks[t][c],
            "rca": float(papers / terms.get("", c, "country_all") / world),
            "cagr": None if growth is None else float(growth) ** (1.0 / (end - start)) - 1.0,
        })
    return pa.Table.from_pylist(out, schema=INDICATOR_SCHEMA)


@dataclass(frozen=True)
class Thresholds:
    """The monopoly-risk thresholds as exact numbers (the user's floats, taken exactly)."""

    high_ratio: Fraction
    high_institutions: int
    medium_ratio: Fraction
    medium_institutions: int


def _risk(ratio: Fraction | None, n_inst: int, th: Thresholds, *, sole: bool = False) -> str:
    # A leader with top-10% works and no runner-up holding any (HHI 10,000) has no ratio but is the
    # extreme monopoly: high, not low (issue 16).
    if sole:
        return "high"
    if ratio is not None and ratio >= th.high_ratio and n_inst >= th.high_institutions:
        return "high"
    if ratio is not None and ratio >= th.medium_ratio and n_inst >= th.medium_institutions:
        return "medium"
    return "low"


def top_institutions(inst: pa.Table, n: int = 10) -> dict[str, list[str | None]]:
    """Per technology, the countries of the ``n`` institutions with the largest exact Σ w (ties: id ascending)."""
    sums, country = _institution_sums(inst)  # country: the largest, as SQL max() over the institution's rows
    per: defaultdict[str, list[tuple[Fraction, int]]] = defaultdict(list)
    for (t, i), v in sums.items():
        per[t].append((-v, i))
    return {t: [country.get((t, i)) for _, i in sorted(v)[:n]] for t, v in per.items()}


def _institution_sums(inst: pa.Table) -> tuple[dict[tuple[str, int], Fraction], dict[tuple[str, int], str]]:
    """Fold (technology, institution_id, country, den, num) rows: exact Σ w and the largest country code."""
    cols = [inst[c].to_pylist() for c in ("technology", "institution_id", "country", "den", "num")]
    sums: dict[tuple[str, int], Fraction] = fold(((t, i), d, m) for t, i, _, d, m in zip(*cols, strict=True))
    country: dict[tuple[str, int], str] = {}
    for t, i, c, _, _ in zip(*cols, strict=True):
        if c is not None and (c > country.get((t, i), "")):
            country[(t, i)] = c
    return sums, country


def top_institution_rows(
    scope: str, inst: pa.Table, names: dict[int, tuple[str | None, str | None]], n: int, start: int, end: int,
) -> list[dict[str, object]]:
    """Rows of the ``top_institutions`` table for one scope: ``all`` (per technology) or ``country``.

    ``inst`` is :func:`banso.analytics.expressions.institution_terms` output (``by_country`` for the
    country scope). Per group, the ``n`` institutions with the largest exact Σ w above 0, ties by
    institution id ascending; ``rank`` is the competition rank on the exact value (equal values, equal
    rank). ``names``: institution id → (name, ROR id) from the store's dimension (null when absent).
    """
    sums, country = _institution_sums(inst)
    groups: defaultdict[tuple[str, str | None], list[tuple[Fraction, int]]] = defaultdict(list)
    for (t, i), v in sums.items():
        c = country.get((t, i))
        if scope == "country" and c is None:
            continue
        groups[(t, c if scope == "country" else None)].append((-v, i))
    out: list[dict[str, object]] = []
    for (t, c), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        members.sort()
        ranks = competition_ranks({str(i): -v for v, i in members})
        for v, i in members[:n]:
            if not v:
                break  # no top-10% output: not ranked among the leaders
            name, ror = names.get(i, (None, None))
            out.append({"technology": t, "scope": scope, "country": c if scope == "country" else country.get((t, i)),
                        "rank": ranks[str(i)], "institution_id": i, "institution": name, "ror": ror,
                        "top10": float(-v), "window_start": start, "window_end": end})
    return out


def technology_rows(
    order: list[str], tech_counts: pa.Table, ind: pa.Table, terms: Terms, inst: pa.Table,
    th: Thresholds, focus: str, start: int, end: int,
) -> pa.Table:
    """Return the ``technologies`` table (one row per technology, in ``order``) from exact values."""
    counts = {r["technology"]: r for r in tech_counts.to_pylist()}
    countries: defaultdict[str, list[tuple[Fraction, str]]] = defaultdict(list)
    for r in ind.select(["technology", "country"]).to_pylist():
        countries[r["technology"]].append((-terms.get(r["technology"], r["country"], "top10"), r["country"]))
    top_inst = top_institutions(inst)
    out = []
    for t in order:
        c = counts.get(t, {"papers": 0, "unknown": 0})
        ranked = sorted(countries.get(t, []))  # largest top10_fractional first, ties by country A→Z
        known_w = terms.get(t, "", "w_known")
        shares = {cc: _ratio(-v, known_w) for v, cc in ranked}
        leader = ranked[0][1] if ranked else None
        runner = ranked[1][1] if len(ranked) > 1 else None
        lead_s = shares.get(leader) if leader else None
        run_s = shares.get(runner) if runner else None
        ratio = lead_s / run_s if lead_s is not None and run_s else None
        n_inst = None if leader is None else sum(1 for x in top_inst.get(t, []) if x == leader)
        hhi = sum(((s or ZERO) ** 2 for s in shares.values()), ZERO) * 10_000 if ranked else None
        ranks = competition_ranks({cc: -v for v, cc in ranked})
        papers = int(c["papers"])
        j_share = shares.get(focus) or ZERO
        out.append({
            "technology": t, "window_start": start, "window_end": end, "papers": papers,
            "leader": leader, "runner_up": runner, "lead_ratio": _f(ratio),
            "leader_top10_institutions": n_inst, "monopoly_risk": _risk(ratio, n_inst or 0, th, sole=bool(lead_s) and not run_s),
            "hhi": _f(hhi), "japan_rank": ranks.get(focus),
            "japan_top10_share": float(j_share) if papers else None,
            "japan_gap_to_leader": float((lead_s or ZERO) - j_share) if papers else None,
            "unknown_country_share": float(Fraction(int(c["unknown"]), papers)) if papers else None,
        })
    return pa.Table.from_pylist(out, schema=TECHNOLOGY_SCHEMA)

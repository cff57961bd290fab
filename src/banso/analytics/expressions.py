"""Indicator logic (T2–T4), written once as Ibis expressions: lazy tables in, lazy tables out.

Nothing here touches files, clocks or engines; :mod:`banso.analytics.engine` binds the store to a
DuckDB or PySpark backend and executes what these functions return. Every definition is the one in
``docs/analytics.md``.

The store's ``works`` table has one row per work with the columns ``work_id`` (int64),
``publication_year``, ``cited_by_count``, ``subfield_id``, ``topic_ids`` (array<int>), ``countries``
(array<string>, distinct), ``institutions`` (array<struct<institution_id: int64, country: string>>),
``oa_top10`` (bool), ``work_type``, ``is_paratext``, ``is_retracted`` and ``text`` (lower-cased title,
newline, lower-cased abstract). Sums that decide ranks are returned as exact integer terms
(:func:`exact_terms`) and added up by :mod:`banso.analytics.exact`.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from banso.analytics.technologies import TechnologySet

TOP10_METHODS = ("leiden", "openalex")
_REGEX_META = set(".^$*+?()[]{}|\\")


def _f(x: float) -> ir.FloatingScalar:
    # Typed float literal: Spark would otherwise read 1.0 as a DECIMAL and round averages.
    return ibis.literal(x, "float64")


FIRST_YEAR, LAST_YEAR = 1900, 2100  # publication years a window or a trend span may name


@dataclass(frozen=True)
class Window:
    """An inclusive range of publication years.

    Examples
    --------
    >>> Window.parse("2019:2023")
    Window(start=2019, end=2023)
    """

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Window:
        """Parse ``START:END`` (or a single year), within :data:`FIRST_YEAR`..:data:`LAST_YEAR`."""
        parts = text.split(":")
        if len(parts) == 1:
            parts = [parts[0], parts[0]]
        years: tuple[int, int] | None = None
        if len(parts) == 2:
            try:
                years = int(parts[0]), int(parts[1])
            except ValueError:
                years = None
        if years is None or years[0] > years[1]:
            raise ValueError(f"期間は START:END（START ≤ END、例: 2019:2023）で指定してください（{text!r}） / "
                             f"window must be START:END with START <= END, e.g. 2019:2023 (got {text!r})")
        if not (FIRST_YEAR <= years[0] and years[1] <= LAST_YEAR):  # outside tester: 1:99999 was taken
            raise ValueError(f"期間は {FIRST_YEAR}:{LAST_YEAR} の中にしてください（{text!r}） / "
                             f"the window must lie within {FIRST_YEAR}:{LAST_YEAR} (got {text!r})")
        return cls(*years)


@dataclass(frozen=True)
class MonopolyThresholds:
    """Thresholds of the technology monopoly risk (T4); configurable.

    ``high`` when lead_ratio >= high_ratio and leader_top10_institutions >= high_institutions;
    ``medium`` when lead_ratio >= medium_ratio and >= medium_institutions; ``low`` otherwise.
    """

    high_ratio: float = 3.0
    high_institutions: int = 8
    medium_ratio: float = 2.0
    medium_institutions: int = 5


def regex_literal(phrase: str) -> str:
    """Escape a phrase for a regex understood alike by RE2 (DuckDB) and Java (Spark).

    Examples
    --------
    >>> regex_literal("c++ (v2)")
    'c\\\\+\\\\+ \\\\(v2\\\\)'
    """
    return "".join("\\" + ch if ch in _REGEX_META else ch for ch in phrase)


def top10_weights(works: ir.Table, method: str = "leiden") -> ir.Table:
    """Add the top-10% weight to every work of the whole store (T3): exact ``wn / wd``, and ``w`` as a float.

    ``leiden``: within a bin (``subfield_id``, ``publication_year``) of N works, a work with citation
    count c gets ``w = clip((0.1·N − n_gt) / n_eq, 0, 1)`` where n_gt counts the bin's works cited more
    than c and n_eq those cited exactly c; the bin's weights sum to exactly 0.1·N. Works without a
    subfield or a year get 0. ``openalex``: ``w = 1`` when
    ``citation_normalized_percentile.is_in_top_10_percent``, else 0.

    The weight is kept as the integers ``wn`` / ``wd`` (``(N − 10·n_gt) / (10·n_eq)`` for a work tied
    at the threshold, else 0/1 or 1/1): sums that decide ranks are made from these exactly
    (:func:`exact_terms`); ``w`` is for display and checks only.

    Examples
    --------
    >>> t = ibis.memtable({"subfield_id": [1] * 10, "publication_year": [2020] * 10,
    ...                    "cited_by_count": [9, 5, 5, 1, 1, 1, 0, 0, 0, 0], "oa_top10": [False] * 10})
    >>> float(top10_weights(t).w.sum().execute())
    1.0
    """
    if method == "openalex":
        wn = works.oa_top10.fill_null(False).ifelse(1, 0).cast("int64")
        return works.mutate(wn=wn, wd=ibis.literal(1, "int64"), w=wn.cast("float64"))
    if method != "leiden":
        raise ValueError(f"不明な上位10%の方法 {method!r} です（{', '.join(TOP10_METHODS)}） / "
                         f"unknown top-10% method {method!r}; use one of {', '.join(TOP10_METHODS)}")
    binned = works.subfield_id.notnull() & works.publication_year.notnull()
    n = works.count().over(group_by=[works.subfield_id, works.publication_year])
    n_gt = ibis.rank().over(
        group_by=[works.subfield_id, works.publication_year], order_by=ibis.desc(works.cited_by_count)
    )
    n_eq = works.count().over(group_by=[works.subfield_id, works.publication_year, works.cited_by_count])
    # (0.1·N − n_gt) / n_eq = (N − 10·n_gt) / (10·n_eq): integers, so no rounding before the sums.
    num = n.cast("int64") - n_gt.cast("int64") * 10
    den = n_eq.cast("int64") * 10
    t = works.mutate(_num=binned.ifelse(num, 0), _den=den)
    wn = ibis.cases((t._num <= 0, 0), (t._num >= t._den, 1), else_=t._num).cast("int64")
    wd = ((t._num > 0) & (t._num < t._den)).ifelse(t._den, 1).cast("int64")
    t = t.mutate(wn=wn, wd=wd)
    return t.mutate(w=t.wn.cast("float64") / t.wd.cast("float64")).drop("_num", "_den")


def counted(works: ir.Table, types: tuple[str, ...]) -> ir.Table:
    """Keep the works that count (docs/analytics.md "Exact counting and document types").

    A work counts when it is not retracted, not paratext, and its ``work_type`` is one of ``types``
    (a work without a type, as in records older than OpenAlex's ``type`` field, counts).
    """
    return works.filter(_reason(works, types).isnull())


def _reason(works: ir.Table, types: tuple[str, ...]) -> ir.StringValue:
    """The reason a work does not count (the first that applies), or null when it counts."""
    typed = works.work_type.notnull() & ~works.work_type.isin(list(types))
    return ibis.cases(
        (works.is_retracted.fill_null(False), "retracted"),
        (works.is_paratext.fill_null(False) | (works.work_type == "paratext"), "paratext"),
        (typed, "type"),
        else_=ibis.null("string"),
    )


def exclusions(works: ir.Table, types: tuple[str, ...]) -> ir.Table:
    """Return (``reason``, ``work_type``, ``works``): the works that do not count, by reason and type."""
    t = works.mutate(reason=_reason(works, types))
    t = t.filter(t.reason.notnull())
    return t.group_by(["reason", "work_type"]).aggregate(works=t.count())


def in_window(works: ir.Table, window: Window) -> ir.Table:
    """Keep the works published inside the window (every indicator counts only these)."""
    return works.filter(works.publication_year.between(window.start, window.end))


def membership(
    works: ir.Table, technologies: TechnologySet, texts: ir.Table | None = None, *, keyword_hits: ir.Table | None = None,
) -> ir.Table:
    """Return distinct (``work_id``, ``technology``) pairs (T1).

    A work belongs to a technology when any of its ``topic_ids`` is listed for it, or any of its
    keyword phrases occurs (case-insensitively, as a substring) in the title or the abstract.
    ``texts`` (``work_id``, ``text``) defaults to ``works`` itself; pass the same rows.
    ``keyword_hits`` (``work_id``, ``technology``), when given, are the keyword matches already made
    for these works (by :class:`banso.analytics.keywords.KeywordMatcher`, the same test) and are used
    instead of the regular expressions below.

    Examples
    --------
    >>> from banso.analytics.technologies import parse_technologies
    >>> techs = parse_technologies({"technologies": [
    ...     {"id": "q", "name_ja": "量子", "name_en": "Quantum", "topics": ["T7"], "keywords": ["qubit"]}]})
    >>> w = ibis.memtable({"work_id": [1, 2, 3], "topic_ids": [[7], [8], [8]],
    ...                    "text": ["x", "a qubit array", "none"]})
    >>> sorted(membership(w, techs).work_id.to_pyarrow().to_pylist())
    [1, 2]
    """
    pieces: list[ir.Table] = []
    topic_rows = [(t.id, topic) for t in technologies.technologies for topic in t.topics]
    if topic_rows:
        tt = ibis.memtable(
            {"technology": [r[0] for r in topic_rows], "topic_id": [r[1] for r in topic_rows]},
            schema={"technology": "string", "topic_id": "int32"},
        )
        wt = works.select("work_id", topic_id=works.topic_ids.unnest().cast("int32"))
        pieces.append(wt.join(tt, "topic_id").select("work_id", "technology"))
    with_kw = [t for t in technologies.technologies if t.keywords]
    if with_kw and keyword_hits is not None:
        pieces.append(keyword_hits.select("work_id", "technology"))
    elif with_kw:
        patterns = {t.id: "|".join(regex_literal(k) for k in t.keywords) for t in with_kw}
        everything = "|".join(patterns.values())
        # One pass over all texts finds the candidates; only those are tested per technology.
        src = works if texts is None else texts
        cand = src.filter(src.text.re_search(everything)).select("work_id", "text")
        hits = ibis.array(
            [cand.text.re_search(p).ifelse(ibis.literal(tid), ibis.null("string")) for tid, p in patterns.items()]
        )
        kw = cand.select("work_id", technology=hits.unnest())
        pieces.append(kw.filter(kw.technology.notnull()))
    if not pieces:
        raise ValueError("技術の定義が何も選びません（トピックもキーワードもありません） / "
                         "the technology set selects nothing (no topics, no keywords)")
    out = pieces[0]
    for p in pieces[1:]:
        out = out.union(p, distinct=False)
    return out.distinct()


def tech_works(
    works: ir.Table,
    technologies: TechnologySet,
    window: Window,
    *,
    top10: str = "leiden",
    member: ir.Table | None = None,
) -> ir.Table:
    """Return one row per (technology, work in the window) with ``w``, ``nc`` and the work's fields.

    The top-10% weights are computed over the whole store before the window is applied (T3).
    ``member`` is a precomputed :func:`membership` of the window's works (computed when None).
    """
    weighted = in_window(top10_weights(works, top10), window)
    if member is None:
        member = membership(in_window(works, window), technologies)
    cols = weighted.select(
        "work_id", "publication_year", "cited_by_count", "countries", "institutions", "w", "wn", "wd",
        nc=weighted.countries.length().cast("int64"),
    )
    return member.join(cols, "work_id")


def country_counts(tw: ir.Table) -> ir.Table:
    """Return the counted (not rational) columns per technology × country of :func:`tech_works` output.

    Columns: technology, country, papers_whole, h_index, intl_collab_share.
    """
    twc = tw.mutate(country=tw.countries.unnest())
    twc = twc.mutate(
        r=ibis.row_number().over(
            group_by=[twc.technology, twc.country], order_by=[ibis.desc(twc.cited_by_count), twc.work_id]
        ) + 1,
    )
    return twc.group_by(["technology", "country"]).aggregate(
        papers_whole=twc.count().cast("int64"),
        h_index=(twc.cited_by_count >= twc.r).ifelse(twc.r, 0).max().cast("int64"),
        intl_collab_share=(twc.nc >= 2).ifelse(1, 0).sum().cast("float64") / twc.count().cast("float64"),
    )


def technology_counts(tw: ir.Table) -> ir.Table:
    """Return (technology, papers, unknown, known): the technology's works, with unknown / known country."""
    return tw.group_by("technology").aggregate(
        papers=tw.count().cast("int64"),
        unknown=(tw.nc == 0).ifelse(1, 0).sum().cast("int64"),
        known=(tw.nc > 0).ifelse(1, 0).sum().cast("int64"),
    )


def _terms(t: ir.Table, keys: list[str], measure: str, den: ir.IntegerValue, num: ir.IntegerValue) -> ir.Table:
    """Σ ``num / den`` over ``t`` per ``keys``, as exact integer sums per distinct denominator."""
    t = t.mutate(den=den.cast("int64"), _n=num.cast("int64"))
    g = t.group_by([*keys, "den"]).aggregate(num=t._n.sum().cast("int64"))
    tech = g.technology if "technology" in keys else ibis.literal("", "string")
    key = g.country if "country" in keys else ibis.literal("", "string")
    return g.select(technology=tech, key=key, measure=ibis.literal(measure, "string"), den=g.den, num=g.num)


def exact_terms(tw: ir.Table, works: ir.Table, window: Window) -> ir.Table:
    """Return the rational sums of the indicators as integer terms: (technology, key, measure, den, num).

    Each measure's value for a (technology, key) is Σ ``num / den`` over its rows, added up exactly by
    :mod:`banso.analytics.exact`. Why not one fixed-point column: the shares ``1/nc`` would fit a fixed
    denominator such as lcm(1..N), but the top-10% weights ``(N − 10·n_gt) / (10·n_eq)`` have a
    denominator per citation bin, so no fixed denominator fits every store in 64 bits (Spark has no
    128-bit integers, and DECIMAL rounds 1/3). Grouping by denominator keeps every SQL sum an exact
    integer sum on both engines, and leaves a few rows per technology × country to combine.

    Measures, keyed by country (technology × country): ``papers`` (Σ 1/nc), ``top10`` (Σ w/nc),
    ``top10_whole`` (Σ w), ``first`` / ``last`` (Σ 1/nc in the window's first / last year);
    by technology (key ""): ``w_all`` (Σ w), ``w_known`` (Σ w over works with a country);
    by country (technology ""): ``country_all`` (Σ 1/nc over every work of the window).
    """
    twc = tw.mutate(country=tw.countries.unnest())
    tc = ["technology", "country"]
    one = ibis.literal(1, "int64")
    pieces = [
        _terms(twc, tc, "papers", twc.nc, one),
        _terms(twc, tc, "top10", twc.wd * twc.nc, twc.wn),
        _terms(twc, tc, "top10_whole", twc.wd, twc.wn),
        _terms(twc, tc, "first", twc.nc, (twc.publication_year == window.start).ifelse(1, 0)),
        _terms(twc, tc, "last", twc.nc, (twc.publication_year == window.end).ifelse(1, 0)),
        _terms(tw, ["technology"], "w_all", tw.wd, tw.wn),
        _terms(tw, ["technology"], "w_known", tw.wd, (tw.nc > 0).ifelse(tw.wn, 0)),
    ]
    ww = in_window(works, window)
    wwc = ww.select(country=ww.countries.unnest(), nc=ww.countries.length().cast("int64"))
    pieces.append(_terms(wwc, ["country"], "country_all", wwc.nc, one))
    out = pieces[0]
    for p in pieces[1:]:
        out = out.union(p, distinct=False)
    return out


def institution_terms(tw: ir.Table, top: int = 10, *, by_country: bool = False) -> ir.Table:
    """Return (technology, institution_id, country, den, num): Σ w of the institutions that may be in the top ``top``.

    Each distinct institution on a work gets the work's whole ``w`` (T4 ``leader_top10_institutions``).
    Only candidates are returned, so that few sums are added up exactly: the first ``top`` by the
    floating-point sum (ties by id), and every other institution whose floating-point sum is within a
    relative 1e-6 of the ``top``-th — far more than the rounding of any float sum of fewer than 10^9
    terms, so no institution of the exact top ``top`` is left out. Zero sums are exact in floating point
    (all terms are 0), so the zeros need no margin. ``by_country``: the top ``top`` of each technology ×
    country (the institution's country, the largest code it carries; institutions without one are left out).
    """
    ti = tw.select("technology", "wn", "wd", "w", inst=tw.institutions.unnest())
    ti = ti.select("technology", "wn", "wd", "w", institution_id=ti.inst.institution_id, country=ti.inst.country)
    approx = ti.group_by(["technology", "institution_id"]).aggregate(sw=ti.w.sum(), icountry=ti.country.max())
    part = ["technology", "icountry"] if by_country else ["technology"]
    if by_country:
        approx = approx.filter(approx.icountry.notnull())
    approx = approx.mutate(ipos=ibis.row_number().over(
        group_by=[approx[c] for c in part], order_by=[ibis.desc(approx.sw), approx.institution_id]))
    cut = approx.filter(approx.ipos == top - 1).select(*part, cut=approx.sw)
    approx = approx.left_join(cut, part).select("technology", "institution_id", "sw", "ipos", "cut")
    keep = approx.filter((approx.ipos < top) | (
        (approx.sw > 0) & (approx.sw >= approx.cut - approx.cut.abs() * _f(1e-6)))).select("technology", "institution_id")
    ti = ti.semi_join(keep, ["technology", "institution_id"])
    return ti.group_by(["technology", "institution_id", "wd"]).aggregate(
        num=ti.wn.sum().cast("int64"), country=ti.country.max()
    ).rename(den="wd")


def window_works_known(works: ir.Table, window: Window) -> ir.IntegerScalar:
    """Return the number of the window's works with a known country (RCA's ``P``)."""
    ww = in_window(works, window)
    return ww.filter(ww.countries.length() > 0).count()

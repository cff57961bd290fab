"""Indicator logic (T2–T4), written once as Ibis expressions: lazy tables in, lazy tables out.

Nothing here touches files, clocks or engines; :mod:`banso.analytics.engine` binds the store to a
DuckDB or PySpark backend and executes what these functions return. Every definition is the one in
``docs/analytics.md``.

The store's ``works`` table has one row per work with the columns ``work_id`` (int64),
``publication_year``, ``cited_by_count``, ``subfield_id``, ``topic_ids`` (array<int>), ``countries``
(array<string>, distinct), ``institutions`` (array<struct<institution_id: int64, country: string>>),
``oa_top10`` (bool) and ``text`` (lower-cased title, newline, lower-cased abstract).
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
        """Parse ``START:END`` (or a single year)."""
        parts = text.split(":")
        try:
            if len(parts) == 1:
                return cls(int(parts[0]), int(parts[0]))
            if len(parts) == 2:
                start, end = int(parts[0]), int(parts[1])
                if start > end:
                    raise ValueError
                return cls(start, end)
        except ValueError:
            pass
        raise ValueError(f"window must be START:END with START <= END, e.g. 2019:2023 (got {text!r})")


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
    """Add the top-10% weight ``w`` to every work of the whole store (T3).

    ``leiden``: within a bin (``subfield_id``, ``publication_year``) of N works, a work with citation
    count c gets ``w = clip((0.1·N − n_gt) / n_eq, 0, 1)`` where n_gt counts the bin's works cited more
    than c and n_eq those cited exactly c; the bin's weights sum to exactly 0.1·N. Works without a
    subfield or a year get 0. ``openalex``: ``w = 1`` when
    ``citation_normalized_percentile.is_in_top_10_percent``, else 0.

    Examples
    --------
    >>> t = ibis.memtable({"subfield_id": [1] * 10, "publication_year": [2020] * 10,
    ...                    "cited_by_count": [9, 5, 5, 1, 1, 1, 0, 0, 0, 0], "oa_top10": [False] * 10})
    >>> float(top10_weights(t).w.sum().execute())
    1.0
    """
    if method == "openalex":
        return works.mutate(w=works.oa_top10.fill_null(False).ifelse(1, 0).cast("float64"))
    if method != "leiden":
        raise ValueError(f"unknown top-10% method {method!r}; use one of {', '.join(TOP10_METHODS)}")
    binned = works.subfield_id.notnull() & works.publication_year.notnull()
    n = works.count().over(group_by=[works.subfield_id, works.publication_year])
    n_gt = ibis.rank().over(
        group_by=[works.subfield_id, works.publication_year], order_by=ibis.desc(works.cited_by_count)
    )
    n_eq = works.count().over(group_by=[works.subfield_id, works.publication_year, works.cited_by_count])
    raw = ((n.cast("float64") * _f(0.1) - n_gt.cast("float64")) / n_eq.cast("float64")).clip(lower=_f(0.0), upper=_f(1.0))
    return works.mutate(w=binned.ifelse(raw, _f(0.0)))


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
        raise ValueError("the technology set selects nothing (no topics, no keywords)")
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
        "work_id", "publication_year", "cited_by_count", "countries", "institutions", "w",
        nc=weighted.countries.length(),
    )
    return member.join(cols, "work_id")


def indicators(
    works: ir.Table,
    technologies: TechnologySet,
    window: Window,
    *,
    top10: str = "leiden",
    member: ir.Table | None = None,
) -> ir.Table:
    """Return the ``indicators`` table: one row per technology × country × window (T4).

    Columns: technology, country, window_start, window_end, papers_whole, papers_fractional,
    top10_whole, top10_fractional, top10_share_whole, top10_share_fractional, rank_top10_fractional,
    rca, cagr, h_index, intl_collab_share. ``member`` is a precomputed :func:`membership` of the
    window's works (computed when None).

    Examples
    --------
    >>> from banso.analytics.technologies import parse_technologies
    >>> techs = parse_technologies({"technologies": [
    ...     {"id": "q", "name_ja": "量子", "name_en": "Quantum", "topics": ["T1"]}]})
    >>> works = ibis.memtable({
    ...     "work_id": [1, 2], "publication_year": [2020, 2020], "cited_by_count": [3, 1],
    ...     "subfield_id": [5, 5], "topic_ids": [[1], [1]], "countries": [["JP"], ["JP", "US"]],
    ...     "institutions": [[{"institution_id": 1, "country": "JP"}], []],
    ...     "oa_top10": [False, False], "text": ["", ""]})
    >>> df = indicators(works, techs, Window(2020, 2020)).execute()
    >>> df.set_index("country").papers_fractional.to_dict()
    {'JP': 1.5, 'US': 0.5}
    """
    tw = tech_works(works, technologies, window, top10=top10, member=member)
    return indicators_from(tw, works, window)


def indicators_from(tw: ir.Table, works: ir.Table, window: Window) -> ir.Table:
    """Return the ``indicators`` table from :func:`tech_works` output (``works``: the whole store)."""
    twc = tw.mutate(country=tw.countries.unnest())
    twc = twc.mutate(
        frac=_f(1.0) / twc.nc.cast("float64"),
        r=ibis.row_number().over(
            group_by=[twc.technology, twc.country], order_by=[ibis.desc(twc.cited_by_count), twc.work_id]
        ) + 1,
    )
    per = twc.group_by(["technology", "country"]).aggregate(
        papers_whole=twc.count(),
        papers_fractional=twc.frac.sum(),
        top10_whole=twc.w.sum(),
        top10_fractional=(twc.w * twc.frac).sum(),
        h_index=(twc.cited_by_count >= twc.r).ifelse(twc.r, 0).max(),
        intl_collab_share=(twc.nc >= 2).ifelse(1, 0).sum().cast("float64") / twc.count().cast("float64"),
        frac_first=(twc.publication_year == window.start).ifelse(twc.frac, _f(0.0)).sum(),
        frac_last=(twc.publication_year == window.end).ifelse(twc.frac, _f(0.0)).sum(),
    )
    totals = tw.group_by("technology").aggregate(
        tech_w_all=tw.w.sum(),
        tech_w_known=(tw.nc > 0).ifelse(tw.w, _f(0.0)).sum(),
        tech_known_papers=(tw.nc > 0).ifelse(1, 0).cast("float64").sum(),
    )
    # Whole-window totals for RCA: each country's fractional output over every work in the window.
    ww = in_window(works, window)
    wwc = ww.select(country=ww.countries.unnest(), frac=_f(1.0) / ww.countries.length().cast("float64"))
    country_all = wwc.group_by("country").aggregate(country_all=wwc.frac.sum())
    world_all = ww.filter(ww.countries.length() > 0).count()
    j = per.join(totals, "technology").join(country_all, "country")
    j = j.mutate(
        top10_share_whole=(j.tech_w_all > 0).ifelse(j.top10_whole / j.tech_w_all, ibis.null("float64")),
        top10_share_fractional=(j.tech_w_known > 0).ifelse(j.top10_fractional / j.tech_w_known,
                                                           ibis.null("float64")),
        rank_top10_fractional=(
            ibis.rank().over(group_by=j.technology, order_by=ibis.desc(j.top10_fractional)) + 1
        ).cast("int64"),
        rca=(j.papers_fractional / j.country_all) / (j.tech_known_papers / world_all.cast("float64")),
        cagr=((j.frac_first > 0) & ibis.literal(window.end > window.start)).ifelse(
            (j.frac_last / j.frac_first) ** _f(1.0 / max(1, window.end - window.start)) - _f(1.0),
            ibis.null("float64"),
        ),
    )
    return j.select(
        "technology",
        "country",
        window_start=ibis.literal(window.start, "int32"),
        window_end=ibis.literal(window.end, "int32"),
        papers_whole=j.papers_whole.cast("int64"),
        papers_fractional=j.papers_fractional,
        top10_whole=j.top10_whole,
        top10_fractional=j.top10_fractional,
        top10_share_whole=j.top10_share_whole,
        top10_share_fractional=j.top10_share_fractional,
        rank_top10_fractional=j.rank_top10_fractional,
        rca=j.rca,
        cagr=j.cagr,
        h_index=j.h_index.cast("int64"),
        intl_collab_share=j.intl_collab_share,
    )


def technologies_table(
    works: ir.Table,
    technologies: TechnologySet,
    window: Window,
    *,
    top10: str = "leiden",
    thresholds: MonopolyThresholds = MonopolyThresholds(),
    focus_country: str = "JP",
    member: ir.Table | None = None,
) -> ir.Table:
    """Return the ``technologies`` table: one row per technology × window (T4).

    Columns: technology, window_start, window_end, papers, leader, runner_up, lead_ratio,
    leader_top10_institutions, monopoly_risk, hhi, japan_rank, japan_top10_share,
    japan_gap_to_leader, unknown_country_share. "Japan" is ``focus_country`` (default JP).
    """
    tw = tech_works(works, technologies, window, top10=top10, member=member)
    return technologies_from(tw, indicators_from(tw, works, window), technologies, window,
                             thresholds=thresholds, focus_country=focus_country)


def technologies_from(
    tw: ir.Table,
    ind: ir.Table,
    technologies: TechnologySet,
    window: Window,
    *,
    thresholds: MonopolyThresholds = MonopolyThresholds(),
    focus_country: str = "JP",
) -> ir.Table:
    """Return the ``technologies`` table from :func:`tech_works` and :func:`indicators_from` outputs."""
    techs = ibis.memtable(
        {"technology": [t.id for t in technologies.technologies],
         "order": list(range(len(technologies.technologies)))},
        schema={"technology": "string", "order": "int64"},
    )
    pos = ind.mutate(
        pos=ibis.row_number().over(
            group_by=ind.technology, order_by=[ibis.desc(ind.top10_fractional), ind.country]
        )
    )
    leader = pos.filter(pos.pos == 0).select(
        "technology", leader=pos.country, leader_share=pos.top10_share_fractional
    )
    runner = pos.filter(pos.pos == 1).select(
        "technology", runner_up=pos.country, runner_share=pos.top10_share_fractional
    )
    hhi = ind.group_by("technology").aggregate(
        hhi=(ind.top10_share_fractional.fill_null(_f(0.0)) ** 2).sum() * _f(10_000.0)
    )
    focus = ind.filter(ind.country == focus_country).select(
        "technology", japan_rank=ind.rank_top10_fractional, japan_share=ind.top10_share_fractional
    )
    counts = tw.group_by("technology").aggregate(
        papers=tw.count(), unknown=(tw.nc == 0).ifelse(1, 0).sum()
    )
    ti = tw.select("technology", "w", inst=tw.institutions.unnest())
    ti = ti.select("technology", "w", institution_id=ti.inst.institution_id, inst_country=ti.inst.country)
    inst = ti.group_by(["technology", "institution_id"]).aggregate(
        sw=ti.w.sum(), inst_country=ti.inst_country.max()
    )
    inst = inst.mutate(
        ipos=ibis.row_number().over(
            group_by=inst.technology, order_by=[ibis.desc(inst.sw), inst.institution_id]
        )
    )
    top_inst = inst.filter(inst.ipos < 10)
    lt = top_inst.join(leader, "technology")
    lead_inst = lt.group_by("technology").aggregate(
        leader_top10_institutions=(lt.inst_country == lt.leader).ifelse(1, 0).sum()
    )
    t = (
        techs.left_join(counts, "technology")
        .left_join(leader, "technology")
        .left_join(runner, "technology")
        .left_join(hhi, "technology")
        .left_join(focus, "technology")
        .left_join(lead_inst, "technology")
    )
    t = t.select(
        "technology", "order", "papers", "unknown", "leader", "leader_share", "runner_up", "runner_share",
        "hhi", "japan_rank", "japan_share", "leader_top10_institutions",
    )
    lead_ratio = (t.runner_share > 0).ifelse(t.leader_share / t.runner_share, ibis.null("float64"))
    n_inst = t.leader_top10_institutions.fill_null(0)
    t = t.mutate(lead_ratio=lead_ratio, n_inst=n_inst)
    # A leader with top-10% works and no runner-up holding any (HHI 10,000) has no ratio but is the
    # extreme monopoly: every institution with top-10% weight is the leader's. High, not low (issue 16).
    sole = (t.leader_share > 0) & (t.runner_share.isnull() | (t.runner_share == 0))
    risk = ibis.cases(
        (sole.fill_null(False), "high"),
        ((t.lead_ratio >= thresholds.high_ratio) & (t.n_inst >= thresholds.high_institutions), "high"),
        ((t.lead_ratio >= thresholds.medium_ratio) & (t.n_inst >= thresholds.medium_institutions), "medium"),
        else_="low",
    )
    papers = t.papers.fill_null(0)
    japan_share = t.japan_share.fill_null(_f(0.0))
    return t.select(
        "technology",
        window_start=ibis.literal(window.start, "int32"),
        window_end=ibis.literal(window.end, "int32"),
        papers=papers.cast("int64"),
        leader=t.leader,
        runner_up=t.runner_up,
        lead_ratio=t.lead_ratio,
        leader_top10_institutions=n_inst.cast("int64"),
        monopoly_risk=risk,
        hhi=t.hhi,
        japan_rank=t.japan_rank.cast("int64"),
        japan_top10_share=(papers > 0).ifelse(japan_share, ibis.null("float64")),
        japan_gap_to_leader=(papers > 0).ifelse(t.leader_share.fill_null(_f(0.0)) - japan_share, ibis.null("float64")),
        unknown_country_share=(papers > 0).ifelse(
            t.unknown.fill_null(0).cast("float64") / papers.cast("float64"), ibis.null("float64")
        ),
        order=t.order,
    ).order_by("order").drop("order")


def weight_report(works: ir.Table, top10: str = "leiden") -> ir.Table:
    """Return one row with ``works``, ``unbinned`` (no subfield or year: w = 0) and ``top10_sum`` (Σw)."""
    wt = top10_weights(works, top10)
    return wt.aggregate(
        works=wt.count(),
        unbinned=(wt.subfield_id.isnull() | wt.publication_year.isnull()).ifelse(1, 0).sum(),
        top10_sum=wt.w.sum(),
    )

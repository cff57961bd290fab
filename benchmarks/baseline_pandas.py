"""Plain pandas + json baseline for the analytics benchmark (issue 6): the same pipeline, the obvious way.

Reads every gzip JSON line with ``json.loads``, keeps the needed fields in Python lists, builds pandas
frames and computes the indicators table (and the leader / runner-up / lead ratio / HHI columns of the
technologies table) with the definitions of docs/analytics.md. Used only as a yardstick.

    python benchmarks/baseline_pandas.py SNAPSHOT_DIR --window 2019:2023 --out OUT_DIR
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from banso.analytics.technologies import load_technologies


def _num(url: str | None, prefix: str) -> int | None:
    if not url:
        return None
    m = re.search(prefix + r"(\d+)$", url)
    return int(m.group(1)) if m else None


def read(snapshot: Path) -> pd.DataFrame:
    rows = []
    files = sorted(snapshot.rglob("part_*.gz"))
    for f in files:
        date = re.search(r"updated_date=([\d-]+)", str(f))
        d = date.group(1) if date else ""
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                pt = r.get("primary_topic") or {}
                countries = sorted({i.get("country_code") for a in r.get("authorships") or []
                                    for i in a.get("institutions") or [] if i.get("country_code")})
                insts = {(_num(i.get("id"), "I"), i.get("country_code")) for a in r.get("authorships") or []
                         for i in a.get("institutions") or [] if i.get("id")}
                inv = r.get("abstract_inverted_index") or {}
                words = sorted((p, w) for w, ps in inv.items() for p in ps)
                text = ((r.get("title") or "") + "\n" + " ".join(w for _, w in words)).lower()
                rows.append((
                    _num(r.get("id"), "W"), d, r.get("publication_year"), r.get("cited_by_count") or 0,
                    _num((pt.get("subfield") or {}).get("id"), "/"),
                    [_num(t.get("id"), "T") for t in r.get("topics") or []], countries, list(insts), text,
                ))
    df = pd.DataFrame(rows, columns=["work_id", "pdate", "publication_year", "cited_by_count", "subfield_id",
                                     "topic_ids", "countries", "institutions", "text"])
    return df.sort_values("pdate").drop_duplicates("work_id", keep="last")


def weights(df: pd.DataFrame) -> pd.Series:
    w = pd.Series(0.0, index=df.index)
    ok = df["subfield_id"].notna() & df["publication_year"].notna()
    g = df[ok].groupby(["subfield_id", "publication_year"])
    n = g["cited_by_count"].transform("size")
    n_gt = g["cited_by_count"].rank(method="min", ascending=False) - 1
    n_eq = df[ok].groupby(["subfield_id", "publication_year", "cited_by_count"])["cited_by_count"].transform("size")
    w[ok] = ((0.1 * n - n_gt) / n_eq).clip(0, 1)
    return w


def indicators(df: pd.DataFrame, start: int, end: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    techs = load_technologies()
    df = df.assign(w=weights(df))
    win = df[df["publication_year"].between(start, end)].copy()
    win["nc"] = win["countries"].str.len()
    member = []
    for t in techs.technologies:
        topics = set(t.topics)
        for wid, tids, text in zip(win["work_id"], win["topic_ids"], win["text"]):
            if topics.intersection(tids) or any(k in text for k in t.keywords):
                member.append((t.id, wid))
    m = pd.DataFrame(member, columns=["technology", "work_id"]).merge(win, on="work_id")
    wc = m.explode("countries").dropna(subset=["countries"]).rename(columns={"countries": "country"})
    wc["frac"] = 1 / wc["nc"]
    wc["wf"] = wc["w"] * wc["frac"]
    wc["intl"] = (wc["nc"] >= 2).astype(float)
    wc["f0"] = np.where(wc["publication_year"] == start, wc["frac"], 0.0)
    wc["f1"] = np.where(wc["publication_year"] == end, wc["frac"], 0.0)
    g = wc.groupby(["technology", "country"])
    ind = g.agg(papers_whole=("work_id", "size"), papers_fractional=("frac", "sum"), top10_whole=("w", "sum"),
                top10_fractional=("wf", "sum"), intl_collab_share=("intl", "mean"), f0=("f0", "sum"),
                f1=("f1", "sum")).reset_index()

    def h(c: pd.Series) -> int:
        s = np.sort(c.to_numpy())[::-1]
        return int((s >= np.arange(1, len(s) + 1)).sum())

    ind = ind.merge(g["cited_by_count"].apply(h).rename("h_index").reset_index(), on=["technology", "country"])
    tot = m.groupby("technology").agg(w_all=("w", "sum"))
    tot["w_known"] = m[m["nc"] > 0].groupby("technology")["w"].sum()
    tot["p_known"] = m[m["nc"] > 0].groupby("technology").size()
    ind = ind.merge(tot.reset_index(), on="technology")
    ind["top10_share_whole"] = ind["top10_whole"] / ind["w_all"]
    ind["top10_share_fractional"] = ind["top10_fractional"] / ind["w_known"]
    ind["rank_top10_fractional"] = ind.groupby("technology")["top10_fractional"].rank(method="min", ascending=False)
    allc = win[win["nc"] > 0].explode("countries")
    allc["frac"] = 1 / allc["nc"]
    pc = allc.groupby("countries")["frac"].sum()
    world = (win["nc"] > 0).sum()
    ind["rca"] = (ind["papers_fractional"] / ind["country"].map(pc)) / (ind["p_known"] / world)
    ind["cagr"] = np.where(ind["f0"] > 0, (ind["f1"] / ind["f0"]) ** (1 / max(1, end - start)) - 1, np.nan)
    ind["window_start"], ind["window_end"] = start, end
    srt = ind.sort_values(["technology", "top10_fractional", "country"], ascending=[True, False, True])
    lead = srt.groupby("technology").nth(0).set_index("technology")
    run = srt.groupby("technology").nth(1).set_index("technology")
    tech = pd.DataFrame({"leader": lead["country"], "runner_up": run["country"],
                         "lead_ratio": lead["top10_share_fractional"] / run["top10_share_fractional"]})
    tech["hhi"] = ind.groupby("technology")["top10_share_fractional"].apply(lambda s: (s.fillna(0) ** 2).sum() * 1e4)
    tech["papers"] = m.groupby("technology").size()
    return ind, tech.reset_index()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot", type=Path)
    ap.add_argument("--window", default="2019:2023")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    start, end = (int(x) for x in a.window.split(":"))
    t0 = time.perf_counter()
    df = read(a.snapshot)
    t1 = time.perf_counter()
    ind, tech = indicators(df, start, end)
    t2 = time.perf_counter()
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        ind.to_csv(a.out / "indicators_pandas.csv", index=False)
        tech.to_csv(a.out / "technologies_pandas.csv", index=False)
    print(json.dumps({"works": len(df), "read_s": t1 - t0, "indicators_s": t2 - t1, "total_s": t2 - t0,
                      "indicator_rows": len(ind)}))


if __name__ == "__main__":
    main()

from __future__ import annotations

import json
from pathlib import Path

from banso.analytics.synth import write_synthetic_snapshot
from tests.support.openalex import read_records


def test_deterministic_and_independent_of_process_count(tmp_path: Path) -> None:
    a = write_synthetic_snapshot(tmp_path / "a", works=120, seed=5, part_size=50, processes=1)
    b = write_synthetic_snapshot(tmp_path / "b", works=120, seed=5, part_size=50, processes=2)
    c = write_synthetic_snapshot(tmp_path / "c", works=120, seed=6, part_size=50, processes=1)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.gz"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.gz"))
    assert files_a == files_b and len(files_a) == 3 == a.files
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    assert (tmp_path / "a" / files_a[0]).read_bytes() != (tmp_path / "c" / files_a[0]).read_bytes()
    assert a.works == b.works == c.works == 120


def test_records_are_snapshot_shaped_and_realistic(synth_snapshot: Path) -> None:
    files = sorted(synth_snapshot.glob("works/updated_date=*/part_*.gz"))
    assert len(files) == 3
    recs = read_records(synth_snapshot)
    assert len(recs) == 1500
    sizes = [len(json.dumps(r, separators=(",", ":"), ensure_ascii=False)) for r in recs]
    assert 10_000 <= sum(sizes) / len(sizes) <= 20_000
    for key in ("abstract_inverted_index", "referenced_works", "locations", "authorships", "topics",
                "primary_topic", "publication_year", "title", "cited_by_count", "updated_date"):
        assert key in recs[0]
    countries = [{i["country_code"] for a in r["authorships"] for i in a["institutions"]} for r in recs]
    flat = [c for cs in countries for c in cs]
    for c in ("JP", "CN", "US", "DE", "GB", "KR"):
        assert c in flat
    unknown = sum(1 for cs in countries if not cs) / len(recs)
    intl = sum(1 for cs in countries if len(cs) >= 2) / len(recs)
    assert 0.02 < unknown < 0.2 and 0.1 < intl < 0.4
    cites = sorted(r["cited_by_count"] for r in recs)
    # Skewed: the top 10% hold far more than 10% of citations.
    assert sum(cites[-150:]) > 0.4 * sum(cites)
    assert all(r["primary_topic"]["subfield"]["id"].startswith("https://openalex.org/subfields/") for r in recs)

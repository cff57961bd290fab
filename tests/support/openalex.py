"""OpenAlex-shaped records for the analytics tests: hand-made works and snapshot part files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

REAL_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "openalex-works"


def work(
    n: int,
    *,
    year: int | None = 2020,
    cited: int = 0,
    countries: list[list[str]] | None = None,
    topics: list[str] | None = None,
    subfield: int | None = 1702,
    title: str = "A study",
    abstract: str | None = None,
    updated: str = "2025-01-01T00:00:00",
    top10: bool = False,
) -> dict[str, Any]:
    """Return a minimal OpenAlex-shaped work; ``countries`` lists each authorship's institution countries."""
    authorships = []
    for a, ccs in enumerate(countries or []):
        authorships.append({
            "author": {"id": f"https://openalex.org/A{n}{a}"},
            "institutions": [
                {"id": f"https://openalex.org/I{100 + ord(c[0]) * 10 + ord(c[1]) % 10}", "country_code": c}
                for c in ccs
            ],
        })
    topic_objs = [{"id": f"https://openalex.org/{t}", "subfield": {"id": f"https://openalex.org/subfields/{subfield}"}}
                  for t in (topics or ["T1"])]
    inv: dict[str, list[int]] | None = None
    if abstract is not None:
        inv = {}
        for i, w in enumerate(abstract.split()):
            inv.setdefault(w, []).append(i)
    return {
        "id": f"https://openalex.org/W{n}",
        "title": title,
        "publication_year": year,
        "cited_by_count": cited,
        "primary_topic": {"id": topic_objs[0]["id"], "subfield": {"id": f"https://openalex.org/subfields/{subfield}"}}
        if subfield is not None else None,
        "topics": topic_objs,
        "authorships": authorships,
        "citation_normalized_percentile": {"is_in_top_10_percent": top10},
        "abstract_inverted_index": inv,
        "referenced_works": [],
        "updated_date": updated,
    }


def write_part(root: Path, date: str, name: str, records: list[Any], *, raw_lines: list[str] | None = None) -> Path:
    """Write records (and optional raw lines) as a gzip JSON Lines part file in snapshot layout."""
    path = root / "works" / f"updated_date={date}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in records] + (raw_lines or [])
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def read_records(root: Path) -> list[dict[str, Any]]:
    """Return every record of a snapshot folder, read with plain gzip + json."""
    out: list[dict[str, Any]] = []
    for f in sorted(root.glob("works/updated_date=*/part_*.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh)
    return out



"""Synthetic OpenAlex works snapshot (for the demo and the benchmarks), deterministic from a seed.

Records mimic the real snapshot's shape and size (10–20 KB of JSON each): nested authorships with
institutions and ``country_code``, ``topics`` with subfields, ``primary_topic``, ``locations``,
``referenced_works``, ``abstract_inverted_index``, skewed ``cited_by_count`` and a realistic country
mix with international collaboration and some works without any institution (unknown country).
The output layout is the snapshot's own: ``works/updated_date=YYYY-MM-DD/part_NNN.gz``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import os
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from banso.analytics.technologies import TechnologySet, load_technologies

# Approximate share of world output by country (institution country_code), long tail last.
COUNTRY_MIX: tuple[tuple[str, float], ...] = (
    ("CN", 0.26), ("US", 0.15), ("IN", 0.06), ("GB", 0.045), ("DE", 0.045), ("JP", 0.04),
    ("KR", 0.03), ("IT", 0.03), ("FR", 0.03), ("CA", 0.025), ("AU", 0.025), ("ES", 0.02),
    ("BR", 0.02), ("IR", 0.02), ("RU", 0.015), ("TW", 0.012), ("NL", 0.012), ("TR", 0.012),
    ("PL", 0.01), ("CH", 0.01), ("SE", 0.01), ("SA", 0.01), ("SG", 0.007), ("IL", 0.006),
    ("EG", 0.006), ("PK", 0.006), ("MY", 0.005), ("ID", 0.005), ("MX", 0.005), ("ZA", 0.004),
    ("BE", 0.004), ("DK", 0.004), ("AT", 0.004), ("NO", 0.003), ("FI", 0.003), ("PT", 0.003),
    ("GR", 0.003), ("CZ", 0.003), ("NZ", 0.002), ("TH", 0.002), ("VN", 0.002), ("NG", 0.002),
)
SUBFIELDS: tuple[tuple[int, str, int, str], ...] = (
    (1702, "Artificial Intelligence", 17, "Computer Science"),
    (1705, "Computer Networks and Communications", 17, "Computer Science"),
    (1707, "Computer Vision and Pattern Recognition", 17, "Computer Science"),
    (1710, "Information Systems", 17, "Computer Science"),
    (2202, "Aerospace Engineering", 22, "Engineering"),
    (2207, "Control and Systems Engineering", 22, "Engineering"),
    (2208, "Electrical and Electronic Engineering", 22, "Engineering"),
    (2210, "Mechanical Engineering", 22, "Engineering"),
    (2212, "Ocean Engineering", 22, "Engineering"),
    (2505, "Materials Chemistry", 25, "Materials Science"),
    (2504, "Electronic, Optical and Magnetic Materials", 25, "Materials Science"),
    (3107, "Atomic and Molecular Physics, and Optics", 31, "Physics and Astronomy"),
    (3103, "Astronomy and Astrophysics", 31, "Physics and Astronomy"),
    (1910, "Oceanography", 19, "Earth and Planetary Sciences"),
    (1908, "Geophysics", 19, "Earth and Planetary Sciences"),
    (1305, "Biotechnology", 13, "Biochemistry, Genetics and Molecular Biology"),
    (1311, "Genetics", 13, "Biochemistry, Genetics and Molecular Biology"),
    (2725, "Infectious Diseases", 27, "Medicine"),
    (2105, "Renewable Energy, Sustainability and the Environment", 21, "Energy"),
    (1604, "Inorganic Chemistry", 16, "Chemistry"),
)
_SYLLABLES = ("ka", "to", "ri", "men", "sor", "lin", "ver", "dat", "pro", "con", "tra", "sis", "mo", "del",
              "ana", "lys", "ter", "mal", "dyn", "ami", "cal", "net", "work", "opt", "ical", "str", "uct", "ure")
_COMMON = ("the", "of", "and", "in", "to", "a", "is", "we", "for", "with", "on", "by", "that", "this", "are",
           "results", "method", "show", "based", "model", "data", "using", "high", "performance", "system",
           "proposed", "analysis", "study", "new", "approach", "experimental", "significant", "effect")
YEARS = tuple(range(2005, 2026))
# Technologies where Japan is strong in the literature (batteries, robotics, materials, power devices,
# superconductors, semiconductors, lasers), matched on the technology id: Japan's share is raised there.
JAPAN_STRENGTHS = ("battery", "robot", "material", "power-device", "superconductor", "semiconductor", "laser")
# A few technologies are dominated by one country (about 80 % of the works and better cited): the
# monopolies a think tank looks for. At most a quarter of the technologies that are not Japan's strengths.
MONOPOLIES = 3
DOMINANT = ("CN", "US", "CN")
# Citations per (subfield, year) are log-normal (Radicchi et al. 2008; Thelwall 2016): sigma of log-citations.
CITATION_SIGMA = 1.2
# Share of works that belong to a technology; the rest have filler topics (the benchmarks' default).
TECHNOLOGY_SHARE = 0.3
# The snapshot's metadata file: says the works are synthetic (never read as works: not *.jsonl / *.json.gz).
SYNTHETIC_MARKER = "synthetic.json"
FIRST_DATE = date(2025, 1, 1)


@dataclass(frozen=True)
class _Topic:
    id: int
    name: str
    subfield: tuple[int, str, int, str]
    keywords: tuple[str, ...]
    tech_index: int  # -1 for filler topics


@dataclass
class _World:
    topics: list[_Topic]
    n_tech: int
    countries: list[str]
    country_weights: list[float]  # cumulative, for random.choices
    tech_country_weights: list[list[float]]  # cumulative
    tech_country_quality: list[list[float]]
    country_quality: list[float]
    tech_weights: list[float]  # cumulative, for random.choices
    field_scale: dict[int, float]
    vocab: list[str]
    topic_json: list[dict[str, Any]]
    institutions: dict[str, list[dict[str, Any]]]
    sources: list[dict[str, Any]]
    concepts: list[dict[str, Any]]


def _technology_mixes(rng: random.Random, techs: TechnologySet, countries: list[str],
                      weights: list[float]) -> tuple[list[list[float]], list[list[float]]]:
    """Return, per technology, the countries' output weights and research quality (citation multipliers).

    Noisy around the world mix; Japan present in every technology (raised where it is strong, see
    :data:`JAPAN_STRENGTHS`); :data:`MONOPOLIES` technologies dominated by one country.
    """
    n = len(techs.technologies)
    jp = countries.index("JP")
    strong = {i for i, t in enumerate(techs.technologies) if any(k in t.id.lower() for k in JAPAN_STRENGTHS)}
    others = [i for i in range(n) if i not in strong]
    monopolies = rng.sample(others, min(MONOPOLIES, len(others) // 4))
    tcw: list[list[float]] = []
    tcq: list[list[float]] = []
    for i in range(n):
        # Countries of the long tail (under 1 % of world output) are active in about a third of the fields.
        w = [x * rng.lognormvariate(0, 0.5) * (0.03 if x < 0.01 and rng.random() < 0.7 else 1.0) for x in weights]
        q = [rng.lognormvariate(0, 0.35) for _ in countries]
        w[jp] *= 2.5 if i in strong else rng.lognormvariate(0.4, 0.35)
        q[jp] *= 1.4 if i in strong else 1.0
        if i in monopolies:
            d = countries.index(DOMINANT[monopolies.index(i) % len(DOMINANT)])
            w[d] = 4.0 * (sum(w) - w[d])  # ≈ 80 % of the technology's works
            q = [x * (2.0 if k == d else 0.5) for k, x in enumerate(q)]
        tcw.append(w)
        tcq.append(q)
    return tcw, tcq


@lru_cache(maxsize=4)
def _world(seed: int, tech_file: str | None) -> _World:
    rng = random.Random(seed ^ 0x5EED)
    techs: TechnologySet = load_technologies(Path(tech_file) if tech_file else None)
    topics: list[_Topic] = []
    used: set[int] = set()
    for i, t in enumerate(techs.technologies):
        tid = next((x for x in t.topics if x not in used), 20000 + i)
        used.add(tid)
        topics.append(_Topic(tid, t.name_en, rng.choice(SUBFIELDS), t.keywords, i))
    for k in range(300):
        topics.append(_Topic(21000 + k, f"Synthetic research topic {k}", rng.choice(SUBFIELDS), (), -1))
    countries = [c for c, _ in COUNTRY_MIX]
    weights = [w for _, w in COUNTRY_MIX]
    n_tech = len(techs.technologies)
    tcw, tcq = _technology_mixes(rng, techs, countries, weights)
    tcw = [list(itertools.accumulate(w)) for w in tcw]  # cumulative, for random.choices
    cq = [rng.lognormvariate(0, 0.3) for _ in countries]
    cq[countries.index("JP")] = 1.0  # Japan at the world's citation level; per-technology quality varies
    # Fields differ in size: a few large technologies, many mid-sized ones (log-normal sizes).
    tech_weights = list(itertools.accumulate(rng.lognormvariate(0, 0.45) for _ in range(n_tech)))
    # Fields differ in citation culture: a mean citation scale per subfield.
    field_scale = {sf[0]: rng.uniform(6.0, 18.0) for sf in SUBFIELDS}
    vocab = list(_COMMON) * 6
    while len(vocab) < 2500:
        vocab.append("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    topic_json = []
    for tp in topics:
        sf = tp.subfield
        topic_json.append({
            "id": f"https://openalex.org/T{tp.id}", "display_name": tp.name, "score": 0.99,
            "subfield": {"id": f"https://openalex.org/subfields/{sf[0]}", "display_name": sf[1]},
            "field": {"id": f"https://openalex.org/fields/{sf[2]}", "display_name": sf[3]},
            "domain": {"id": "https://openalex.org/domains/3", "display_name": "Physical Sciences"},
        })
    institutions = _institutions(seed, countries)
    sources = []
    for k in range(200):
        sources.append({
            "id": f"https://openalex.org/S{4_000_000 + k}", "display_name": f"Journal of Synthetic Studies {k}",
            "issn_l": f"{1000 + k}-{2000 + k}", "issn": [f"{1000 + k}-{2000 + k}", f"{3000 + k}-{4000 + k}"],
            "is_oa": k % 3 == 0, "is_in_doaj": k % 6 == 0, "is_core": True,
            "host_organization": f"https://openalex.org/P{4_310_000_000 + k % 20}",
            "host_organization_name": f"Publisher {k % 20}",
            "host_organization_lineage": [f"https://openalex.org/P{4_310_000_000 + k % 20}"],
            "host_organization_lineage_names": [f"Publisher {k % 20}"], "type": "journal",
        })
    concepts = [{
        "id": f"https://openalex.org/C{100_000 + k}", "wikidata": f"https://www.wikidata.org/wiki/Q{5000 + k}",
        "display_name": f"Concept {vocab[200 + k]}", "level": k % 4, "score": 0.5,
    } for k in range(400)]
    return _World(topics, n_tech, countries, list(itertools.accumulate(weights)), tcw, tcq, cq, tech_weights, field_scale, vocab, topic_json,
                  institutions, sources, concepts)


_ROR_DIGITS = "0123456789abcdefghjkmnpqrstvwxyz"  # ROR's Crockford base32
_INST_KINDS = ("{} University", "{} Institute of Technology", "{} National Laboratory", "{} Research Center",
               "{} Electronics Corporation")


def ror_like(n: int) -> str:
    """Return a ROR-shaped id for ``n``: ``0``, six base32 digits and ROR's two check digits (ISO 7064 97-10).

    Synthetic: the shape of a ROR id, not a registered organisation (docs/analytics.md).

    >>> ror_like(0)
    'https://ror.org/000000098'
    """
    body = "0" + "".join(_ROR_DIGITS[(n >> (5 * k)) & 31] for k in range(5, -1, -1))
    value = 0
    for ch in body:
        value = value * 32 + _ROR_DIGITS.index(ch)
    return f"https://ror.org/{body}{98 - (value * 100) % 97:02d}"


def _institutions(seed: int, countries: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per country, 120 institutions with invented place names and ROR-like ids (some without a ROR id).

    Names and ROR ids come from their own generator, so they leave the works' random draws unchanged.
    """
    rng = random.Random(f"institutions-{seed}")
    out: dict[str, list[dict[str, Any]]] = {}
    for ci, c in enumerate(countries):
        pool, stems = [], set()
        for k in range(120):
            iid = f"https://openalex.org/I{1_000_000 + ci * 1000 + k}"
            stem = ""
            while not stem or stem in stems:
                stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
            stems.add(stem)
            # One company in seven has no ROR id, as unregistered organisations in OpenAlex have none.
            ror = None if k % 5 == 4 and k % 7 == 0 else ror_like(ci * 1000 + k + 7919)
            pool.append({
                "id": iid, "display_name": _INST_KINDS[k % 5].format(stem), "ror": ror, "country_code": c,
                "type": "education" if k % 5 < 2 else ("facility" if k % 5 < 4 else "company"),
                "lineage": [iid],
            })
        out[c] = pool
    return out


def _zipf_index(rng: random.Random, n: int, s: float = 1.1) -> int:
    # Inverse-CDF approximation of a bounded Zipf draw: a few institutions and topics dominate.
    u = rng.random()
    return min(n - 1, int(n ** u ** s) - 1)


def _work(rng: random.Random, w: _World, n: int, updated: str, tech_share: float) -> dict[str, Any]:
    year = YEARS[min(len(YEARS) - 1, int(len(YEARS) * rng.random() ** 0.6))]
    is_tech = rng.random() < tech_share
    ti = (rng.choices(range(w.n_tech), cum_weights=w.tech_weights)[0] if is_tech
          else w.n_tech + _zipf_index(rng, len(w.topics) - w.n_tech))
    topic = w.topics[ti]
    others = [w.topics[w.n_tech + _zipf_index(rng, len(w.topics) - w.n_tech)] for _ in range(2)]
    cweights = w.tech_country_weights[topic.tech_index] if topic.tech_index >= 0 else w.country_weights
    c0 = rng.choices(w.countries, cum_weights=cweights)[0]
    work_countries = [c0]
    unknown = rng.random() < 0.07
    if not unknown and rng.random() < 0.22:
        for _ in range(1 if rng.random() < 0.75 else 2):
            c = rng.choices(w.countries, cum_weights=cweights)[0]  # collaborators from the same field's countries
            if c not in work_countries:
                work_countries.append(c)
    n_auth = 1 + min(int(rng.expovariate(1 / 4.0)), 30)
    authorships: list[dict[str, Any]] = []
    insts_seen: dict[str, dict[str, Any]] = {}
    for a in range(n_auth):
        c = c0 if a == 0 else work_countries[a % len(work_countries)]
        insts: list[dict[str, Any]] = []
        if not unknown and rng.random() > 0.05:
            pool = w.institutions[c]
            for _ in range(2 if rng.random() < 0.1 else 1):
                inst = pool[_zipf_index(rng, len(pool))]
                if inst not in insts:
                    insts.append(inst)
        for inst in insts:
            insts_seen[inst["id"]] = inst
        aid = f"https://openalex.org/A{5_000_000_000 + rng.randrange(10**9)}"
        raw_aff = [f"Department of {w.vocab[rng.randrange(300, 2500)].title()}, {i['display_name']}" for i in insts]
        authorships.append({
            "author_position": "first" if a == 0 else ("last" if a == n_auth - 1 else "middle"),
            "author": {"id": aid, "display_name": f"Author {aid[-6:]}",
                       "orcid": f"https://orcid.org/0000-000{a % 10}-{rng.randrange(10**4):04d}-{rng.randrange(10**4):04d}"},
            "institutions": insts,
            "countries": sorted({i["country_code"] for i in insts}),
            "is_corresponding": a == 0,
            "raw_author_name": f"Author {aid[-6:]}",
            "raw_affiliation_strings": raw_aff,
            "affiliations": [{"raw_affiliation_string": r, "institution_ids": [i["id"]]} for r, i in zip(raw_aff, insts)],
        })
    # Abstract: pseudo-words, with the technology's keyword phrases for topic works (and rarely others).
    r = rng.random
    nv = len(w.vocab)
    vocab = w.vocab
    words = [vocab[int(r() * nv)] for _ in range(120 + int(r() * 140))]
    phrases: list[str] = []
    if topic.keywords and rng.random() < 0.85:
        phrases.append(rng.choice(topic.keywords))
    if rng.random() < 0.03:
        t2 = w.topics[rng.randrange(w.n_tech)]
        if t2.keywords:
            phrases.append(rng.choice(t2.keywords))
    for ph in phrases:
        pos = rng.randrange(len(words))
        words[pos:pos] = ph.split()
    inverted: dict[str, list[int]] = {}
    for i, word in enumerate(words):
        inverted.setdefault(word, []).append(i)
    has_abstract = rng.random() > 0.1
    title_words = [w.vocab[rng.randrange(300, len(w.vocab))] for _ in range(rng.randint(4, 9))]
    title = " ".join(title_words).capitalize() + f" for {topic.name.lower()}"
    # Citations: log-normal within a (subfield, year), its mean the field's scale × the share of citations
    # an article of that age has collected × the country's (and technology's) research quality.
    ci = w.countries.index(c0)
    q = w.country_quality[ci] * (w.tech_country_quality[topic.tech_index][ci] if topic.tech_index >= 0 else 1.0)
    mean = w.field_scale[topic.subfield[0]] * (1 - math.exp(-(2026 - year) / 3)) * q
    cited = int(rng.lognormvariate(math.log(mean) - CITATION_SIGMA ** 2 / 2, CITATION_SIGMA))
    wid = f"https://openalex.org/W{4_000_000_000 + n}"
    src = w.sources[_zipf_index(rng, len(w.sources))]
    doi = f"https://doi.org/10.{5000 + n % 900}/synth.{n}"
    locations = [{
        "id": f"doi:{doi[16:]}", "is_oa": src["is_oa"], "landing_page_url": doi,
        "pdf_url": f"https://example.org/pdf/{n}.pdf" if src["is_oa"] else None, "source": src,
        "license": "cc-by" if src["is_oa"] else None, "license_id": "https://openalex.org/licenses/cc-by" if src["is_oa"] else None,
        "version": "publishedVersion", "is_accepted": True, "is_published": True,
        "raw_source_name": src["display_name"], "raw_type": "journal-article",
    }]
    for k in range(rng.randint(0, 2)):
        locations.append({
            "id": f"pmh:oai:repo{k}:{n}", "is_oa": True, "landing_page_url": f"https://repository{k}.example.org/{n}",
            "pdf_url": None, "source": w.sources[(n + k) % len(w.sources)], "license": None, "license_id": None,
            "version": "acceptedVersion", "is_accepted": True, "is_published": False,
            "raw_source_name": None, "raw_type": "article",
        })
    pct = min(0.999999, 1 - 1 / (1 + cited / 8))
    return {
        "id": wid, "doi": doi, "title": title, "display_name": title,
        "publication_year": year, "publication_date": f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "ids": {"openalex": wid, "doi": doi, "mag": str(3_000_000_000 + n)},
        "language": "en", "primary_location": locations[0], "type": "article",
        "indexed_in": ["crossref"], "open_access": {"is_oa": src["is_oa"], "oa_status": "gold" if src["is_oa"] else "closed",
                                                    "oa_url": locations[0]["pdf_url"], "any_repository_has_fulltext": False},
        "authorships": authorships,
        "institutions": [],
        "countries_distinct_count": len({i["country_code"] for i in insts_seen.values()}),
        "institutions_distinct_count": len(insts_seen),
        "corresponding_author_ids": [authorships[0]["author"]["id"]],
        "corresponding_institution_ids": [i["id"] for i in authorships[0]["institutions"]],
        "apc_list": None, "apc_paid": None, "fwci": round(cited / 10, 3), "has_fulltext": False,
        "cited_by_count": cited,
        "citation_normalized_percentile": {"value": round(pct, 6), "is_in_top_1_percent": pct >= 0.99,
                                           "is_in_top_10_percent": pct >= 0.9},
        "cited_by_percentile_year": {"min": int(pct * 100), "max": min(100, int(pct * 100) + 1)},
        "biblio": {"volume": str(n % 80), "issue": str(n % 12), "first_page": str(n % 900), "last_page": str(n % 900 + 12)},
        "is_retracted": False, "is_paratext": False, "is_xpac": False,
        "primary_topic": w.topic_json[ti],
        "topics": [w.topic_json[ti]] + [w.topic_json[o.id - 21000 + w.n_tech] if o.tech_index < 0 else w.topic_json[ti]
                                        for o in others],
        "keywords": [{"id": f"https://openalex.org/keywords/{w.vocab[k]}", "display_name": w.vocab[k].title(),
                      "score": round(rng.random(), 4)} for k in rng.sample(range(300, 2500), 8)],
        "concepts": rng.sample(w.concepts, 10),
        "mesh": [], "locations_count": len(locations), "locations": locations,
        "best_oa_location": locations[0] if src["is_oa"] else None,
        "sustainable_development_goals": [{"id": "https://metadata.un.org/sdg/9", "display_name": "Industry, innovation and infrastructure",
                                           "score": 0.5}],
        "awards": [], "funders": [], "has_content": {"pdf": False, "grobid_xml": False}, "content_urls": None,
        "referenced_works_count": 0,
        "referenced_works": [f"https://openalex.org/W{4_000_000_000 + int(r() * (n + 1000))}"
                             for _ in range(10 + int(r() * 50))],
        "related_works": [f"https://openalex.org/W{4_000_000_000 + int(r() * (n + 1000))}" for _ in range(10)],
        "abstract_inverted_index": inverted if has_abstract else None,
        "counts_by_year": [{"year": y, "cited_by_count": max(0, cited // 8 - (2025 - y))} for y in range(2025, max(year, 2012) - 1, -1)],
        "updated_date": f"{updated}T03:00:00.000000", "created_date": f"{year}-01-01T00:00:00",
    }


@dataclass(frozen=True)
class _PartSpec:
    out: str
    seed: int
    tech_file: str | None
    index: int
    start: int
    count: int
    updated: str
    name: str
    level: int
    tech_share: float


def _write_part(spec: _PartSpec) -> tuple[int, int, int]:
    world = _world(spec.seed, spec.tech_file)
    rng = random.Random(spec.seed * 1_000_003 + spec.index)
    path = Path(spec.out) / "works" / f"updated_date={spec.updated}" / spec.name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    raw = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=spec.level, mtime=0) as gz:
        buf: list[str] = []
        for n in range(spec.start, spec.start + spec.count):
            rec = _work(rng, world, n, spec.updated, spec.tech_share)
            rec["referenced_works_count"] = len(rec["referenced_works"])
            buf.append(dumps(rec))
            if len(buf) >= 500:
                data = ("\n".join(buf) + "\n").encode()
                raw += len(data)
                gz.write(data)
                buf.clear()
        if buf:
            data = ("\n".join(buf) + "\n").encode()
            raw += len(data)
            gz.write(data)
    os.replace(tmp, path)
    return spec.count, raw, path.stat().st_size


@dataclass(frozen=True)
class SynthResult:
    """What :func:`write_synthetic_snapshot` wrote."""

    works: int
    files: int
    raw_bytes: int
    gz_bytes: int

    @property
    def mean_record_bytes(self) -> float:
        """Return the mean size of one JSON record (uncompressed, with its newline)."""
        return self.raw_bytes / self.works if self.works else 0.0


def write_synthetic_snapshot(
    out: Path,
    *,
    works: int,
    seed: int = 0,
    part_size: int = 10_000,
    dates: int = 3,
    processes: int | None = None,
    technology_file: Path | None = None,
    compresslevel: int = 1,
    on_part: Callable[[int], None] | None = None,
    technology_share: float = TECHNOLOGY_SHARE,
) -> SynthResult:
    """Write ``works`` synthetic records in snapshot layout under ``out/works/``, and ``out/synthetic.json``.

    ``technology_share`` of the works have a technology's topic (the rest filler topics): the default
    suits the benchmarks; the demo asks for more so that each technology has enough works to rank.
    ``synthetic.json`` marks the snapshot as synthetic (``{"synthetic": true, ...}``): the ingest records
    it in the store and the reports say so (:func:`is_synthetic_snapshot`).
    Output is byte-identical for the same arguments, whatever ``processes`` is.

    Examples
    --------
    >>> import tempfile
    >>> r = write_synthetic_snapshot(Path(tempfile.mkdtemp()), works=20, seed=1, processes=1)
    >>> r.works, r.files
    (20, 1)
    """
    if works < 1:
        raise ValueError("works must be at least 1")
    if not 0 <= technology_share <= 1:
        raise ValueError("technology_share must be between 0 and 1")
    nparts = math.ceil(works / part_size)
    specs = []
    per_date: dict[str, int] = {}
    for p in range(nparts):
        d = (FIRST_DATE + timedelta(days=30 * (p * dates // nparts))).isoformat()
        k = per_date.get(d, 0)
        per_date[d] = k + 1
        specs.append(_PartSpec(str(out), seed, str(technology_file) if technology_file else None, p,
                               p * part_size, min(part_size, works - p * part_size), d, f"part_{k:03d}.gz",
                               compresslevel, technology_share))
    procs = processes or min(os.cpu_count() or 1, nparts)
    total = [0, 0, 0]
    if procs <= 1:
        for s in specs:
            r = _write_part(s)
            total = [a + b for a, b in zip(total, r)]
            if on_part:
                on_part(r[0])
    else:
        with ProcessPoolExecutor(procs) as ex:
            for fut in as_completed([ex.submit(_write_part, s) for s in specs]):
                r = fut.result()
                total = [a + b for a, b in zip(total, r)]
                if on_part:
                    on_part(r[0])
    marker = {"synthetic": True, "generator": "banso.analytics.synth", "seed": seed, "works": works,
              "technology_share": technology_share,
              "note": "合成データ（実在の論文ではありません） / synthetic data, not real publications"}
    tmp = out / (SYNTHETIC_MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, out / SYNTHETIC_MARKER)
    return SynthResult(total[0], nparts, total[1], total[2])


def is_synthetic_snapshot(snapshot: Path) -> bool:
    """Return True when ``snapshot`` was written by :func:`write_synthetic_snapshot` (its marker file says so).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> is_synthetic_snapshot(d)
    False
    >>> _ = write_synthetic_snapshot(d, works=3, processes=1)
    >>> is_synthetic_snapshot(d)
    True
    """
    try:
        data = json.loads((snapshot / SYNTHETIC_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("synthetic") is True

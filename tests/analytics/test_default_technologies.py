"""The shipped technology file covers every vision technology of the programme registry (T1)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from banso.analytics.errors import TechnologyFileError
from banso.analytics.technologies import default_technology_file, load_technologies, parse_technologies

REGISTRY = Path(__file__).resolve().parents[2] / "src" / "banso" / "programme" / "data" / "registry.yaml"


def _registry_vision_codes() -> set[str]:
    data = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    codes = [str(t["code"]) for t in data["technologies"]]
    assert len(codes) == len(set(codes)) and codes
    return set(codes)


def test_every_registry_vision_technology_is_covered_exactly_once() -> None:
    codes = _registry_vision_codes()
    # Count on the raw YAML as well: the parser rejects duplicates, this does not depend on it.
    raw = yaml.safe_load(default_technology_file().read_text(encoding="utf-8"))["technologies"]
    given = Counter(str(item["registry"]) for item in raw if item.get("registry") is not None)
    missing = sorted(codes - set(given))
    assert not missing, f"registry vision technologies without an entry: {missing}"
    assert not [c for c, n in given.items() if n > 1], "a registry code given to more than one entry"
    unknown = sorted(set(given) - codes)
    assert not unknown, f"registry codes that are not vision technologies of the registry: {unknown}"
    techs = load_technologies()
    assert sorted(t.registry for t in techs.technologies if t.registry) == sorted(codes)
    # Every entry with a registry code is a vision entry of the code's round (the id may be older).
    rounds = {str(t["code"]): int(t["round"])
              for t in yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))["technologies"]}
    wrong = [(t.id, t.group, rounds[t.registry]) for t in techs.technologies
             if t.registry and t.group != f"vision{rounds[t.registry]}"]
    assert not wrong, f"group differs from the registry round: {wrong}"


def test_every_entry_has_both_names_and_a_topic_or_keyword() -> None:
    techs = load_technologies()
    assert len(techs.technologies) >= 20 + len(_registry_vision_codes())
    for t in techs.technologies:
        assert t.name_ja.strip() and t.name_en.strip(), t.id
        assert any(ord(ch) > 0x3000 for ch in t.name_ja), f"{t.id}: name_ja should be Japanese"
        assert t.topics or t.keywords, t.id


def test_duplicate_registry_code_is_rejected() -> None:
    doc = {"technologies": [
        {"id": "a", "name_ja": "甲", "name_en": "A", "keywords": ["alpha phrase"], "registry": "V1-OC-01"},
        {"id": "b", "name_ja": "乙", "name_en": "B", "keywords": ["beta phrase"], "registry": " V1-OC-01 "},
    ]}
    with pytest.raises(TechnologyFileError, match=r"duplicate registry code 'V1-OC-01'.*'a'"):
        parse_technologies(doc, source="t.yaml")


def test_registry_code_is_optional_and_must_be_a_string(tmp_path: Path) -> None:
    ts = parse_technologies({"technologies": [
        {"id": "a", "name_ja": "甲", "name_en": "A", "keywords": ["alpha phrase"]},
        {"id": "b", "name_ja": "乙", "name_en": "B", "keywords": ["beta phrase"], "registry": None},
        {"id": "c", "name_ja": "丙", "name_en": "C", "keywords": ["gamma phrase"], "registry": "V2-01"},
    ]})
    assert [t.registry for t in ts.technologies] == ["", "", "V2-01"]
    assert ts.select(["c"]).technologies[0].registry == "V2-01"
    for bad in ("12", "''", "[V1-OC-01]"):
        p = tmp_path / "t.yaml"
        entry = f"{{id: q, name_ja: 量子, name_en: Q, keywords: [qubit], registry: {bad}}}"
        p.write_text(f"technologies:\n  - {entry}\n", encoding="utf-8")
        with pytest.raises(TechnologyFileError, match=r"\(q\): 'registry' must be a non-empty string"):
            load_technologies(p)


def test_no_shipped_keyword_phrase_is_shorter_than_four_characters() -> None:
    short = [(t.id, k) for t in load_technologies().technologies for k in t.keywords if len(k) < 4]
    assert not short, f"keyword phrases too short to be specific (they occur inside other words): {short}"

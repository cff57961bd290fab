"""Technology registry (F1): the shipped file, YAML/CSV round trips, clear errors, all-or-nothing import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.kit.errors import Forbidden, ValidationFailed
from banso.programme import registry_io, service
from tests.support.cli import banso
from tests.support.factories import Factory
from tests.support.programme import REGISTRY, load_registry


def test_shipped_registry_has_the_real_areas_and_rounds(db: Session, clock: FakeClock) -> None:
    load_registry(db, clock)
    areas = service.list_areas(db)
    assert len(areas) == 20 and areas[0].name_ja == "バイオ技術"
    first = service.list_technologies(db, vision_round=1)
    second = service.list_technologies(db, vision_round=2)
    assert 20 <= len(first) <= 27 and 1 <= len(second) <= 23
    assert {t.domain for t in first} == {"ocean", "space_aviation", "cross_domain_cyber", "bio"}
    assert any(t.certainty == "unsure" for t in first + second)  # honest about what must be verified
    header = REGISTRY.read_text("utf-8").split("\nareas:")[0]
    assert "研究開発ビジョン（第一次）" in header and "2022-09-30" in header and "内閣府" in header


def test_export_round_trips_through_yaml_and_csv(db: Session, clock: FakeClock) -> None:
    load_registry(db, clock)
    data = service.export_registry(db)
    assert registry_io.parse(registry_io.to_yaml(data), fmt="yaml") == data
    assert registry_io.parse(registry_io.to_csv(data), fmt="csv") == data
    again = service.import_registry(db, data=data, now=clock.now(), actor=None)
    assert again.technologies_created == 0 and again.technologies_updated == len(data.technologies)


@pytest.mark.parametrize(("text", "message"), [
    ("record,code,round,domain,name_ja,name_en,areas\narea,G01,,,バイオ,Bio,\ntechnology,T1,1,ocean,x,x,G01\n",
     "row 3: .*round 1 is not defined|vision round 1 is not defined"),
    ("record,code,round,domain,name_ja,name_en,areas\ntechnology,T1,one,ocean,x,x,\n", "row 2: round"),
    ("record,code,round,domain,name_ja,name_en,areas\ntechnology,T1,1,space,x,x,\n", "row 2: domain 'space'"),
    ("record,code,name_ja\nthing,T1,x\n", "row 2: record must be"),
    ("code,name_ja\nT1,x\n", "header lacks"),
])
def test_bad_csv_rows_are_named(db: Session, clock: FakeClock, text: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        data = registry_io.parse(text, fmt="csv")
        service.import_registry(db, data=data, now=clock.now(), actor=None)


def test_bad_yaml_changes_nothing(db: Session, clock: FakeClock, factory: Factory) -> None:
    load_registry(db, clock)
    before = len(service.list_technologies(db))
    text = ("technologies:\n- {code: NEW-1, round: 1, domain: ocean, name_ja: 新技術, areas: [G01]}\n"
            "- {code: NEW-2, round: 1, domain: ocean, name_ja: 新技術2, areas: [G99]}\n")
    with pytest.raises(ValidationFailed, match="NEW-2: unknown guideline area G99"):
        service.import_registry(db, data=registry_io.parse(text, fmt="yaml"), now=clock.now(), actor=None)
    assert len(service.list_technologies(db)) == before
    with pytest.raises(ValidationFailed, match="line"):
        registry_io.parse("areas: [\n", fmt="yaml")
    with pytest.raises(Forbidden):
        service.import_registry(db, data=registry_io.parse("areas: []\n", fmt="yaml"), now=clock.now(),
                                actor=factory.person(roles=("researcher",)).principal())


def test_cli_import_and_export(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert banso(["db", "upgrade"], data).returncode == 0
    imported = banso(["programme", "registry", "import", str(REGISTRY)], data)
    assert imported.returncode == 0, imported.stderr
    assert "20 areas" in imported.stdout
    exported = banso(["programme", "registry", "export", "--format", "csv"], data)
    assert exported.returncode == 0 and exported.stdout.startswith("record,code")
    bad = tmp_path / "bad.csv"
    bad.write_text("record,code,round,domain,name_ja,name_en,areas\ntechnology,X,1,ocean,x,x,G77\n", "utf-8")
    refused = banso(["programme", "registry", "import", str(bad)], data)
    assert refused.returncode == 1 and "unknown guideline area G77" in refused.stderr
    assert banso(["programme", "ledger", "reconcile"], data).returncode == 0

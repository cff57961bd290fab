"""A running banso system of its own for each backup test: a data folder with real keys and sealed blobs,
and a database of its own (a SQLite file, or a new PostgreSQL database on BANSO_TEST_DATABASE_URL's
server), seeded through the real services; plus new, empty PostgreSQL databases to restore into."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from banso.accounts import service as accounts
from banso.accounts.models import User
from banso.app.wiring import build_context
from banso.authz.principal import AuthMethod, Principal
from banso.backup import crypto
from banso.config import Mode, Settings
from banso.councils import service as councils
from banso.db.engine import make_engine
from banso.information import content
from banso.information import service as information
from banso.information.deps import information_deps
from banso.information.models import Item, ItemFile
from banso.information.service import Upload
from banso.kit.clock import FakeClock
from banso.kit.unit import unit_of_work
from banso.migrations import migrate
from banso.programme import commissions as cm
from banso.sealed import store as sealed
from banso.web.context import AppContext
from tests.support.app import START
from tests.support.councils import Cast, establish
from tests.support.factories import TEST_SECRET, Factory
from tests.support.information import ITEM_FIELDS
from tests.support.programme import engage

PG_URL = os.environ.get("BANSO_TEST_DATABASE_URL")


def new_pg_database() -> tuple[str, Callable[[], None]]:
    """Create a new database on the test server; return its URL and the function that drops it."""
    assert PG_URL
    name = f"banso_bk_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), drop


@dataclass
class System:
    """One banso installation: settings, context, and the people and councils seeded into it."""

    settings: Settings
    ctx: AppContext
    clock: FakeClock
    casts: list[Cast] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        """Return the system's engine."""
        return self.ctx.engine

    def add_item(self, cast: Cast, n: int) -> int:
        """Provide an item with one text file to ``cast``'s council in its own unit of work; return its id."""
        data = f"観測データ {n}\n".encode() * (n % 7 + 1)
        with unit_of_work(self.ctx.sessions) as db:
            item = information.create_item(
                db, information_deps(self.ctx), council_id=cast.council.id, actor=company(cast), now=self.clock.now(),
                **{**ITEM_FIELDS, "title": f"観測 {n}"}, files=[Upload(f"obs-{n}.txt", "text/plain", data)])
            return item.id


def company(cast: Cast) -> Principal:
    """Return the principal of the council's company participant (the provider of the seeded items)."""
    return cast.company.principal()


def make_system(folder: Path, database_url: str | None) -> System:
    """Build a migrated, empty system in ``folder`` (SQLite there, or the given PostgreSQL database)."""
    settings = Settings(mode=Mode.TEST, data_dir=folder, secret_key=TEST_SECRET, database_url=database_url)
    clock = FakeClock(START)
    ctx = build_context(settings, clock=clock)
    migrate.upgrade(ctx.engine)
    return System(settings=settings, ctx=ctx, clock=clock)


def seed(system: System, *, councils: int = 2, items: int = 3, others: bool = True) -> None:
    """Seed councils with pledged members and items with sealed files, through the real services; with
    ``others`` also a material request's answer file (C6) and a commission deliverable (F5)."""
    with unit_of_work(system.ctx.sessions) as db:
        factory = Factory(db, system.clock, system.ctx.box)
        system.casts = [establish(factory, db, system.clock) for _ in range(councils)]
        if others:
            _answer_and_deliverable(db, factory, system)
    for cast in system.casts:
        for n in range(items):
            system.add_item(cast, n)


def _answer_and_deliverable(db: Session, factory: Factory, system: System) -> None:
    cast, now, store = system.casts[0], system.clock.now(), sealed.sealed_deps(system.ctx)
    req = councils.create_request(db, council_id=cast.council.id, actor=cast.officer.principal(), now=now,
                                  title="資料提供", body="提供を求める", matter="useful_information",
                                  addressee_kind="participant", addressee_id=cast.company.user.id,
                                  due_at=now + timedelta(days=7))
    councils.answer_request(db, council_id=cast.council.id, request_id=req.id, actor=cast.company.principal(),
                            now=now, text="別添", store=store,
                            files=[councils.UploadedFile("answer.txt", "text/plain", "回答資料\n".encode())])
    ministry, tank = factory.org(kind="ministry"), factory.org(kind="think_tank")
    officer, analyst = factory.person(roles=("officer",), org=ministry), factory.person(roles=("analyst",), org=tank)
    cm.assess_institution(db, organization_id=tank.id, assessed_on=date(2026, 3, 1), analysis_score=4, hub_score=4,
                          talent_score=4, now=now, actor=officer.principal())
    commission = cm.create_commission(
        db, code="TT-BK-1", title="調査", organization_id=tank.id, starts_on=date(2026, 4, 1),
        due_on=date(2027, 3, 31), tasks=[cm.TaskInput("報告書", date(2027, 3, 31))], now=now,
        actor=officer.principal())
    engage(db, commission.id, officer=officer.principal(), person=analyst, now=now)
    cm.upload_deliverable(db, commission_id=commission.id, title="報告", filename="r.txt",
                          content="最終報告\n".encode(), now=now, actor=analyst.principal(), store=store,
                          content_type="text/plain")


@pytest.fixture
def make_database() -> Iterator[Callable[[], str | None]]:
    """Return a maker of new databases: None (SQLite in the data folder) or a new PostgreSQL database URL."""
    drops: list[Callable[[], None]] = []

    def make() -> str | None:
        if not PG_URL:
            return None
        url, drop = new_pg_database()
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


@pytest.fixture
def system(tmp_path: Path, make_database: Callable[[], str | None]) -> Iterator[System]:
    """A seeded system: two councils, three items with a sealed file each."""
    built = make_system(tmp_path / "live", make_database())
    seed(built)
    yield built
    built.engine.dispose()


@dataclass(frozen=True)
class OperatorKey:
    """The operator's key pair files."""

    private: Path
    public: Path


@pytest.fixture
def operator(tmp_path: Path) -> OperatorKey:
    """Return a fresh operator key pair (``banso backup keygen``)."""
    key = OperatorKey(tmp_path / "operator.key", tmp_path / "operator.pub")
    crypto.generate_keypair(key.private, key.public)
    return key


def restored_system(folder: Path, database_url: str | None) -> System:
    """Open a restored system (its data folder and database) with the application's own wiring."""
    settings = Settings(mode=Mode.TEST, data_dir=folder, secret_key=TEST_SECRET, database_url=database_url)
    clock = FakeClock(START)
    return System(settings=settings, ctx=build_context(settings, clock=clock), clock=clock)


def read_everything(system: System) -> dict[int, tuple[str, bytes]]:
    """Read every item's body and file back through the information service (decrypting); id → (body, file)."""
    seen: dict[int, tuple[str, bytes]] = {}
    deps = information_deps(system.ctx)
    with unit_of_work(system.ctx.sessions) as db:
        for item in db.query(Item).order_by(Item.id):
            actor = _principal(db, item.provider_id)
            view = information.read_item(db, deps, item_id=item.id, actor=actor, now=system.clock.now())
            [row] = view.files
            seen[item.id] = (view.body, _file(db, system, item, row, actor))
    return seen


def _principal(db: Session, user_id: int) -> Principal:
    user = db.get(User, user_id)
    assert user is not None
    return accounts.principal_for(user, method=AuthMethod.SESSION, mfa=True)


def _file(db: Session, system: System, item: Item, row: ItemFile, actor: Principal) -> bytes:
    return content.file_bytes(db, information_deps(system.ctx), item, row, actor=actor, now=system.clock.now())

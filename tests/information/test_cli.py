"""`banso leak attribute` and `banso information` from the outside: a real process on a seeded data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from banso.accounts import repository as accounts_repo
from banso.accounts import service as accounts
from banso.app.wiring import build_context
from banso.authz.principal import AuthMethod
from banso.config import Mode, Settings
from banso.demo import seed
from banso.demo.councils import seed_councils
from banso.demo.information import SCENARIO, seed_information
from banso.information import distribution
from banso.information.deps import information_deps
from banso.information.models import Item, ItemFile
from banso.leak.pdf import make_sample_pdf
from banso.migrations import migrate
from banso.sealed import store as sealed
from tests.support.cli import banso


@pytest.fixture(scope="module")
def leaked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A seeded data folder and a single page of a PDF downloaded by 加藤 (the 'leaked' copy)."""
    data = tmp_path_factory.mktemp("leak")
    ctx = build_context(Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=None))
    migrate.upgrade(ctx.engine)
    with ctx.sessions() as db:
        seed.seed(db, box=ctx.box, now=ctx.clock.now())
        seed_councils(db, now=ctx.clock.now(), store=sealed.local_deps(ctx.data_dir, ctx.settings.secret_key))
        seed_information(db, information_deps(ctx), now=ctx.clock.now())
        db.commit()
        item = db.scalar(select(Item).where(Item.title == SCENARIO))
        assert item is not None
        file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item.id))
        assert file_id is not None
        copies = {}
        for email in ("kato.takeshi@mirai-space.example.co.jp", "watanabe.shota@utokyo.example.jp"):
            user = accounts_repo.user_by_email(db, email)
            assert user is not None
            who = accounts.principal_for(user, method=AuthMethod.SESSION, mfa=True)
            copies[email] = distribution.download_file(db, information_deps(ctx), item_id=item.id, file_id=file_id,
                                                       actor=who, now=ctx.clock.now()).data
        db.commit()
    ctx.engine.dispose()
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(BytesIO(copies["kato.takeshi@mirai-space.example.co.jp"])).pages[0])
    page = data / "leaked-page.pdf"
    with page.open("wb") as out:
        writer.write(out)
    return data, page


def test_attribute_names_the_recipient(leaked: tuple[Path, Path]) -> None:
    data, page = leaked
    result = banso(["leak", "attribute", str(page)], data)
    assert result.returncode == 0, result.stderr
    assert "加藤 剛" in result.stdout and "confidence: 1.0" in result.stdout


def test_clean_file_names_nobody(leaked: tuple[Path, Path]) -> None:
    data, _ = leaked
    clean = data / "clean.pdf"
    clean.write_bytes(make_sample_pdf("無関係", ["本文"]))
    result = banso(["leak", "attribute", str(clean)], data)
    assert result.returncode == 1 and "no recipient found" in result.stdout
    missing = banso(["leak", "attribute", str(data / "nope.pdf")], data)
    assert missing.returncode == 2 and "not a readable file" in missing.stderr


def test_information_list_and_run_due(leaked: tuple[Path, Path]) -> None:
    data, _ = leaked
    listed = banso(["information", "list"], data)
    assert listed.returncode == 0 and "designated" in listed.stdout and "held" in listed.stdout
    due = banso(["information", "run-due"], data)
    assert due.returncode == 0 and "lapsed=" in due.stdout

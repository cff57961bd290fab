"""`banso leak attribute` names the recipient of a leaked material-request answer copy (issue 11, I8, I9)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from banso.app.wiring import build_context
from banso.config import Mode, Settings
from banso.councils import service
from banso.councils.models import Council
from banso.demo import seed
from banso.demo.councils import SPACE, _who, seed_councils
from banso.migrations import migrate
from banso.sealed import store as sealed
from tests.support.cli import banso

ANSWER = ("主要国の小型衛星コンステレーションの動向を次のとおり整理した。\n\n"
          "米国と中国が打上げ数で先行し、欧州が続く。\n\n"
          "我が国はSAR衛星の小型化で強みを持つ。\n")


@pytest.fixture(scope="module")
def leaked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A seeded data folder and one paragraph of the answer file as 加藤 downloaded it."""
    data = tmp_path_factory.mktemp("sealed-leak")
    settings = Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=None)
    ctx = build_context(settings)
    migrate.upgrade(ctx.engine)
    store = sealed.local_deps(data, settings.secret_key)
    with ctx.sessions() as db:
        seed.seed(db, box=ctx.box, now=ctx.clock.now())
        seed_councils(db, now=ctx.clock.now(), store=store)
        cid = db.scalar(select(Council.id).where(Council.title_ja == SPACE))
        assert cid is not None
        secretariat, kato = _who(db, "takahashi.naoki@mext.example.jp"), _who(db, "kato.takeshi@mirai-space.example.co.jp")
        now = ctx.clock.now()
        req = service.create_request(db, council_id=cid, actor=secretariat, now=now, title="動向の整理",
                                     body="整理を求める", matter="useful_information", addressee_kind="participant",
                                     addressee_id=kato.user_id, due_at=now + timedelta(days=7))
        view = service.answer_request(db, council_id=cid, request_id=req.id, actor=kato, now=now, text="別添",
                                      files=[service.UploadedFile("動向.txt", "text/plain", ANSWER.encode())],
                                      store=store)
        copies = {who.user_id: service.read_file(db, council_id=cid, request_id=req.id, file_id=view.files[0].id,
                                                 actor=who, now=now, store=store).data
                  for who in (secretariat, kato)}
        db.commit()
    ctx.engine.dispose()
    excerpt = data / "excerpt.txt"
    excerpt.write_bytes(copies[kato.user_id].decode().split("\n\n")[2].encode())
    return data, excerpt


def test_attribute_names_the_recipient_of_a_leaked_answer_copy(leaked: tuple[Path, Path]) -> None:
    data, excerpt = leaked
    result = banso(["leak", "attribute", str(excerpt)], data)
    assert result.returncode == 0, result.stderr
    assert "加藤" in result.stdout and "material_file:" in result.stdout

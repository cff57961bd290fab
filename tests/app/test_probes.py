"""/livez, /readyz and /metrics (issue 17, O4): readiness with reasons, metrics by route template, who may read them."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from banso.app.factory import create_app
from banso.app.wiring import build_context
from banso.audit.models import AuditEntry
from banso.config import Mode, Settings
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.migrations import migrate
from tests.app.live import serve
from tests.support.app import make_context
from tests.support.factories import TEST_SECRET, count_rows
from tests.support.mail import free_port

TOKEN = "metrics-token-for-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return the samples of a text exposition keyed by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def operator(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """An app on the migrated test database itself, not on the test's rolled-back outer transaction.

    Why: that transaction holds SQLite's write lock for the whole test, and /readyz checks that a
    write can start. Probes are asked with the metrics token, as an operator's tooling would.
    """
    with_token = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    with TestClient(create_app(build_context(with_token, engine=engine), background_jobs=False)) as client:
        yield client


def test_livez_and_readyz_answer_without_audit(operator: TestClient, engine: Engine) -> None:
    with Session(engine) as db:
        before = count_rows(db, AuditEntry)
    live = operator.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = operator.get("/readyz", headers=BEARER)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["jobs"] == "off"  # the test app runs no job loop
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database", "migrations", "database_write", "keys", "data_dir"}
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"] == migrate.head_revision()
    assert ready.headers["cache-control"] == "no-store"
    with Session(engine) as db:
        assert count_rows(db, AuditEntry) == before  # probes are no security events
    assert not {"/livez", "/readyz", "/metrics"} & set(operator.get("/api/v1/openapi.json").json()["paths"])


def test_readyz_tells_an_outsider_the_status_and_nothing_of_the_deployment(operator: TestClient) -> None:
    # TestClient's peer is "testclient": neither loopback nor, without the header, the metrics token.
    answer = operator.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready"}  # no pid, job role, revisions or timings


def test_readyz_is_503_while_the_sqlite_write_lock_stays_taken(operator: TestClient, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL writer blocks rows, not the database")
    holder = create_engine(engine.url, connect_args={"isolation_level": None}, poolclass=NullPool)
    with holder.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # a writer that does not let go
        answer = operator.get("/readyz", headers=BEARER)
        conn.exec_driver_sql("ROLLBACK")
    holder.dispose()
    assert answer.status_code == 503
    body = answer.json()
    assert body["checks"]["database"]["ok"] and not body["checks"]["database_write"]["ok"]
    assert body["reasons"][0].startswith("データベースが書き込みを受け付けません")
    assert operator.get("/readyz").status_code == 200  # ready again once the lock is given back


def test_readyz_is_503_when_the_key_folder_cannot_be_used(operator: TestClient, settings: Settings) -> None:
    keys = settings.data_dir / "keys" / "councils"
    shutil.rmtree(keys)
    keys.touch()  # a file where the folder was (a mode change would not stop root, who runs CI)
    answer = operator.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "reasons": [
        "鍵ストア（HSM または鍵フォルダ）が応答しません / the key store (HSM or key folder) does not answer"]}


def test_readyz_is_503_when_the_data_folder_takes_no_write(operator: TestClient, settings: Settings) -> None:
    shutil.rmtree(settings.data_dir)
    settings.data_dir.touch()  # a file where the folder was: nothing can be written below it
    reasons = operator.get("/readyz").json()["reasons"]
    assert "データフォルダに書き込めません / the data folder takes no write" in reasons
    assert len(reasons) == 2  # the key folder went with it


def _app(settings: Settings, **kwargs: object) -> TestClient:
    engine = make_engine(str(kwargs.pop("url")))
    ctx = build_context(settings, engine=engine)
    return TestClient(create_app(ctx, background_jobs=False))


def test_readyz_is_503_with_reasons_when_the_schema_is_behind(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET,
                        metrics_token=SecretStr(TOKEN))
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0012")
    engine.dispose()
    with _app(settings, url=url) as client:
        answer = client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] and not body["checks"]["migrations"]["ok"]
    assert body["checks"]["migrations"]["current"] == "0012"
    assert body["reasons"] == [("データベースのスキーマが最新ではありません（banso db upgrade） / "
                                "the database is not migrated to head (banso db upgrade)")]


def test_readyz_is_503_quickly_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET,
                        readiness_timeout_seconds=1, metrics_token=SecretStr(TOKEN))
    closed = f"postgresql+psycopg://banso@127.0.0.1:{free_port()}/banso"  # nobody listens there
    ctx = build_context(settings, engine=create_engine(closed))
    with TestClient(create_app(ctx, background_jobs=False)) as client:
        started = time.monotonic()
        answer = client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
        spent = time.monotonic() - started
    assert answer.status_code == 503
    body = answer.json()
    assert body["reasons"][0].startswith("データベースに接続できません / the database does not answer")
    assert "127.0.0.1" not in answer.text and "psycopg" not in answer.text  # details go to the log only
    assert body["checks"]["data_dir"]["ok"]
    assert spent < 30  # a bound against hanging, not a speed claim: a loaded 2-core machine took 5.5 s


def test_readyz_never_creates_a_missing_sqlite_database(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    gone = tmp_path / "moved-away.db"
    settings = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    with _app(settings, url=f"sqlite:///{gone}") as client:
        answer = client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 503 and not answer.json()["checks"]["database"]["ok"]
    assert not gone.exists()  # an empty database in its place would hide the loss


@pytest.fixture
def token_client(settings: Settings, engine: object, session_factory: sessionmaker[Session],
                 clock: FakeClock) -> TestClient:
    with_token = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    return TestClient(create_app(make_context(with_token, engine, session_factory, clock),  # type: ignore[arg-type]
                                 background_jobs=False))


def test_metrics_need_the_token_off_loopback(client: TestClient, token_client: TestClient) -> None:
    # TestClient's peer is "testclient", not a loopback address: without a token /metrics is refused.
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert refused.json()["message"].startswith("メトリクスは")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401  # none set
    assert token_client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert token_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_metrics_count_requests_by_route_template_never_the_raw_path(token_client: TestClient) -> None:
    for item_id in (101, 202, 303):
        assert token_client.get(f"/api/v1/information/items/{item_id}").status_code == 401
    assert token_client.get("/no/such/page/4711").status_code == 404
    assert token_client.get("/static/banso.css").status_code == 200
    text = token_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    found = samples(text)
    route = "/api/v1/information/items/{item_id}"
    assert found[("banso_http_requests_total", (("method", "GET"), ("route", route), ("status", "401")))] == 3
    assert found[("banso_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))] == 3
    assert found[("banso_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    assert found[("banso_http_requests_total", (("method", "GET"), ("route", "/static/{path}"), ("status", "200")))] == 1
    assert ("banso_http_requests_in_flight", ()) in found
    routes = {dict(labels).get("route") for _, labels in found} - {None}
    assert routes == {route, "unmatched", "/static/{path}"}  # no id ever becomes a label


@pytest.mark.slow
def test_a_served_banso_gives_metrics_to_loopback_and_reports_the_job_leader(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data / 'banso.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    with serve(data, None) as server:
        ready = server.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["jobs"] == "leader"  # the one process holds the job lock
        for _ in range(3):
            assert server.get("/livez").status_code == 200
        assert server.metric("banso_http_requests_total", method="GET", route="/livez", status="200") == 4
        assert server.metric("banso_job_leader") == 1


def test_loopback_may_be_refused_too(settings: Settings, engine: object, session_factory: sessionmaker[Session],
                                     clock: FakeClock) -> None:
    def app(**update: object) -> TestClient:
        ctx = make_context(settings.model_copy(update=update), engine, session_factory, clock)  # type: ignore[arg-type]
        return TestClient(create_app(ctx, background_jobs=False), client=("127.0.0.1", 50000))

    assert app().get("/metrics").status_code == 200
    # Behind a reverse proxy on the same host every client looks like loopback.
    assert app(metrics_loopback=False).get("/metrics").status_code == 401

"""/livez, /readyz and /metrics (issue 17, O4): readiness with reasons, metrics by route template, who may read them."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from banso.app.factory import create_app
from banso.app.wiring import build_context
from banso.audit.models import AuditEntry
from banso.config import Mode, Settings
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.migrations import migrate
from banso.web.context import AppContext
from tests.app.live import serve
from tests.support.app import make_context
from tests.support.factories import TEST_SECRET, count_rows
from tests.support.mail import free_port

TOKEN = "metrics-token-for-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return the samples of a text exposition keyed by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_livez_and_readyz_answer_without_audit(client: TestClient, db: Session) -> None:
    before = count_rows(db, AuditEntry)
    live = client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["jobs"] == "off"  # the test app runs no job loop
    assert {name for name, check in body["checks"].items() if check["ok"]} == {"database", "migrations", "data_dir"}
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"] == migrate.head_revision()
    assert ready.headers["cache-control"] == "no-store"
    assert count_rows(db, AuditEntry) == before  # probes are no security events
    assert not {"/livez", "/readyz", "/metrics"} & set(client.get("/api/v1/openapi.json").json()["paths"])


def _app(settings: Settings, **kwargs: object) -> TestClient:
    engine = make_engine(str(kwargs.pop("url")))
    ctx = build_context(settings, engine=engine)
    return TestClient(create_app(ctx, background_jobs=False))


def test_readyz_is_503_with_reasons_when_the_schema_is_behind(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0012")
    engine.dispose()
    with _app(settings, url=url) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] and not body["checks"]["migrations"]["ok"]
    assert body["checks"]["migrations"]["current"] == "0012"
    assert body["reasons"] == [("データベースのスキーマが最新ではありません（banso db upgrade） / "
                                "the database is not migrated to head (banso db upgrade)")]


def test_readyz_is_503_quickly_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET,
                        readiness_timeout_seconds=1)
    closed = f"postgresql+psycopg://banso@127.0.0.1:{free_port()}/banso"  # nobody listens there
    ctx = build_context(settings, engine=create_engine(closed))
    with TestClient(create_app(ctx, background_jobs=False)) as client:
        started = time.monotonic()
        answer = client.get("/readyz")
        spent = time.monotonic() - started
    assert answer.status_code == 503
    body = answer.json()
    assert body["reasons"][0].startswith("データベースに接続できません / the database does not answer")
    assert "127.0.0.1" not in answer.text and "psycopg" not in answer.text  # details go to the log only
    assert body["checks"]["data_dir"]["ok"]
    assert spent < 5


def test_readyz_never_creates_a_missing_sqlite_database(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    gone = tmp_path / "moved-away.db"
    with _app(settings, url=f"sqlite:///{gone}") as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503 and not answer.json()["checks"]["database"]["ok"]
    assert not gone.exists()  # an empty database in its place would hide the loss


def test_readyz_is_503_when_the_data_folder_takes_no_write(ctx: AppContext, client: TestClient) -> None:
    shutil.rmtree(ctx.settings.data_dir)
    ctx.settings.data_dir.touch()  # a file where the folder was: nothing can be written below it
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["reasons"] == ["データフォルダに書き込めません / the data folder takes no write"]


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

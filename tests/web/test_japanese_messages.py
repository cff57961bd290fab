"""Issue 14: a refusal in Japanese is Japanese — pages and the API ``detail`` alike, fields named by their labels.

Many forms and endpoints are sent bad input (blank, too long, a wrong choice, a number out of range, not a
date, not yen, a duplicate invitation, an amendment that changes nothing) by a reader whose language is
Japanese (the UI default; ``Accept-Language: ja`` on the API). The answer may hold no English word: Latin
letters are allowed only in the small list of names and units below and in what the person typed.
The same refusal read in English names the fields by their English labels.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.councils import Cast, establish
from tests.support.factories import Factory
from tests.support.http import alert_text, bearer, sign_in

# Names, units and identifiers a Japanese sentence may carry (kept small on purpose).
ALLOWED = frozenset({"PDF", "CSV", "API", "JST", "URL", "ID", "UTF", "U", "T", "e", "g"})
LATIN = re.compile(r"[A-Za-z][A-Za-z'-]*")
JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}


def english_words(text: str, *typed: str) -> list[str]:
    """Return the Latin words of ``text`` that are neither allowed names nor part of what was typed."""
    for value in typed:
        text = text.replace(value, "")
    return [w for w in LATIN.findall(text) if w not in ALLOWED]


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council whose founders pledged (committed so the app's sessions see it)."""
    made = establish(factory, db, clock)
    db.commit()
    return made


def _api_cases(cast: Cast, clock: FakeClock) -> list[tuple[str, str, dict[str, Any]]]:
    council = f"/api/v1/councils/{cast.council.id}"
    soon = (clock.now() + timedelta(days=14)).isoformat()
    return [
        ("post", "/api/v1/councils", {}),  # every required field missing
        ("post", "/api/v1/councils", {"title_ja": "あ" * 201, "purpose": "", "consent_deadline": "明日",
                                      "founders": "全員"}),
        ("post", "/api/v1/councils", {"title_ja": "量子", "purpose": "目的", "consent_deadline": soon,
                                      "founders": [{"user_id": cast.researcher.user.id}], "designation_max_years": -3}),
        ("post", f"{council}/consent", {"decision": "たぶん"}),
        ("post", f"{council}/meetings", {"title": "", "starts_at": "来週"}),
        ("post", f"{council}/bylaws", {"text": "", "summary": "あ" * 501, "changes_duty": "はい"}),
        ("post", f"{council}/requests", {"title": "", "body": "", "addressee_id": "誰か", "deadline": "来月"}),
        ("post", f"{council}/invitations", {"user_id": cast.company.user.id, "role": "member"}),
        ("post", "/api/v1/information/incidents", {"title": " ", "description": ""}),
    ]


def test_api_refusals_read_in_japanese(client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    headers = {**bearer(db, cast.officer, clock), **JA}
    found: dict[str, list[str]] = {}
    for method, path, body in _api_cases(cast, clock):
        answer: httpx.Response = getattr(client, method)(path, headers=headers, json=body)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
        detail = answer.json()["detail"]
        typed = [str(v) for v in body.values()]
        if words := english_words(detail, *typed):
            found[f"{path} {body}"] = [detail, *words]
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_api_detail_follows_accept_language(client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    token = bearer(db, cast.officer, clock)
    ja = client.post("/api/v1/information/incidents", headers={**token, **JA}, json={"title": " ", "description": "d"})
    en = client.post("/api/v1/information/incidents", headers={**token, **EN}, json={"title": " ", "description": "d"})
    assert ja.json()["detail"] == "「件名」を入力してください"
    assert en.json()["detail"] == "Title is required"
    assert ja.json()["message"] == en.json()["message"]  # the bilingual message stays for existing clients


def _page_cases(cast: Cast) -> list[tuple[str, dict[str, Any]]]:
    council = f"/councils/{cast.council.id}"
    return [
        ("/councils", {"title_ja": "", "purpose": "", "consent_deadline": "来週", "designation_max_years": "五",
                       "nondisclosure_days": ""}),
        (f"{council}/invitations", {"user_id": str(cast.company.user.id), "role": "member"}),
        (f"{council}/bylaws", {"text": "", "summary": ""}),
        (f"{council}/meetings", {"title": "", "starts_at": "来週"}),
        (f"{council}/requests", {"title": "", "body": "", "deadline": "来月"}),
        (f"{council}/actions", {"title": "", "due_at": "来月"}),
        (f"{council}/decisions", {"title": "", "matter": "何か", "adoption": "多分"}),
        # issue 14: a kept file that cannot be used (expired, used, another person's or form's)
        (f"{council}/information", {"title": "報告", "matter": "useful_information", "category": "sampling_data",
                                    "provenance": "participant", "kept": "A" * 64}),
    ]


def test_page_refusals_read_in_japanese(client: TestClient, db: Session, cast: Cast, ctx: AppContext) -> None:
    token = sign_in(client, db, cast.officer, ctx)
    found: dict[str, list[str]] = {}
    for path, form in _page_cases(cast):
        answer = client.post(path, data={"csrf_token": token, **form}, follow_redirects=False)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:500])
        text = alert_text(answer.text)
        if words := english_words(text, *form.values()):
            found[path] = [text, *words]
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_a_refused_form_lists_every_problem_linked_to_its_field(client: TestClient, db: Session, cast: Cast,
                                                                ctx: AppContext) -> None:
    token = sign_in(client, db, cast.officer, ctx)
    answer = client.post("/councils", data={"csrf_token": token, "title_ja": "", "purpose": "",
                                            "consent_deadline": ""})
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text and 'id="form-error"' in answer.text and "autofocus" in answer.text
    links = re.findall(r'<li><a href="#(field-[\w-]+)" data-field="([\w.]+)">', answer.text)
    assert len(links) >= 1

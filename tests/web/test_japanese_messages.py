"""Issue 14: a refusal in Japanese is Japanese — pages and the API ``detail`` alike, fields named by their labels.

Many forms and endpoints are sent bad input (blank, too long, a wrong choice, a number out of range, not a
date, not yen, a duplicate invitation, an amendment that changes nothing) by a reader whose language is
Japanese (the UI default; ``Accept-Language: ja`` on the API). The answer may hold no English word: Latin
letters are allowed only in the small list of names and units below and in what the person typed.
The same refusal read in English names the fields by their English labels.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, Person
from tests.support.http import alert_text, bearer, sign_in
from tests.support.programme import World, build_world, submit

# Names, units and identifiers a Japanese sentence may carry (kept small on purpose).
ALLOWED = frozenset({"PDF", "CSV", "API", "JST", "URL", "ID", "UTF", "U", "T", "e", "g"})
LATIN = re.compile(r"[A-Za-z][A-Za-z'-]*")
JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}


def english_words(text: str, *typed: str, names: frozenset[str] = ALLOWED) -> list[str]:
    """Return the Latin words of ``text`` that are neither allowed names nor part of what was typed."""
    for value in typed:
        text = text.replace(value, "")
    return [w for w in LATIN.findall(text) if w not in names]


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


# --- every refusal, not only the councils' (issue 14): the source, every API route, each package's services ----

SRC = Path(__file__).resolve().parents[2] / "src" / "banso"
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Names, formats and units a Japanese half may carry in Latin letters (the file types and standards people know).
LATIN_NAMES = frozenset({
    "PDF", "CSV", "API", "JST", "URL", "YAML", "ZIP", "SHA", "UTF", "HTTP", "HTTPS", "JSON", "TOTP", "HSM", "PKCS",
    "CSRF", "BANSO", "Excel", "Word", "PowerPoint", "Office", "Microsoft", "Windows", "WebP", "Mach", "Java", "class",
    "gzip", "Shift", "MISP", "STIX", "Unix", "bundle", "uuid", "info", "timestamp", "type", "misp", "stix", "YYYY",
    "banso",
})


@lru_cache(maxsize=1)
def _sources() -> tuple[tuple[Path, ast.AST], ...]:
    """Return every source file of the package, parsed once."""
    return tuple((path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(SRC.rglob("*.py")))


def _error_types() -> set[str]:
    """Return the names of every error a refusal is raised with: BansoError and its subclasses, HTTPException."""
    bases: dict[str, set[str]] = {}
    for _path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
    found = {"BansoError", "HTTPException"}
    while grown := {name for name, parents in bases.items() if parents & found} - found:
        found |= grown
    return found


def _piece(value: ast.expr) -> str:
    if isinstance(value, ast.Constant):
        return str(value.value)
    assert isinstance(value, ast.FormattedValue)
    return "日" if ast.unparse(value.value).endswith("_ja") else "{}"  # f"{message_ja} / {message_en}"


def _literal_text(node: ast.expr) -> str | None:
    """Return the words of a message literal (placeholders as {}; a ``*_ja`` placeholder as Japanese), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_piece(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return None if left is None or right is None else left + right
    return None


def japanese_first(message: str) -> bool:
    """Return True when ``message`` reads "日本語 / English" and its Japanese half holds no English words.

    Field codes (``adopted_on は``), quoted or bracketed values and the names above may stay in Latin letters.
    """
    first, sep, _ = message.partition(" / ")
    if not sep or not CJK.search(first):
        return False
    first = re.sub(r"（[^）]*）|\([^)]*\)|「[^」]*」|'[^']*'", "", first)
    first = re.sub(r"[A-Za-z_][\w.\[\]{}]*(?=\s?[はのをにがと:：])", "", first)
    first = re.sub(r"\w*_\w*", "", first)
    return not [w for w in re.findall(r"[A-Za-z]{4,}", first) if w not in LATIN_NAMES]


def english_only_messages() -> list[str]:
    """Return ``path:line: message`` for every literal message given to an error type that is not Japanese first.

    Count them with ``PYTHONPATH=src python -c "from tests.web.test_japanese_messages import english_only_messages as
    e; print(len(e()))"``.
    """
    return [f"{where}: {text}" for where, text in literal_messages() if not japanese_first(text)]


def literal_messages() -> list[tuple[str, str]]:
    """Return (``path:line``, text) of every literal message given to one of the project's error types."""
    types, found = _error_types(), []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            args = [*node.args, *(k.value for k in node.keywords if k.arg in ("detail", "message"))]
            text = _literal_text(args[0]) if name in types and args else None
            if text:
                found.append((f"{path.relative_to(SRC)}:{node.lineno}", text))
    return found


def test_no_service_message_is_english_only_or_english_first() -> None:
    # DESIGN O1 / issue 14: a refusal reads "日本語 / English"; the web layer shows the reader's half (pages) and puts
    # it in the API detail. An English-only message left the Japanese reader with English; an English-first one
    # gave him the English half.
    assert len(_error_types()) > 10  # the walk really sees the project's errors
    assert japanese_first("「件名」を入力してください / title is required")
    assert not japanese_first("title is required") and not japanese_first("not found / 見つかりません")
    assert not japanese_first("金額 is implausibly large / 金額が大きすぎます")
    left = english_only_messages()
    assert not left, f"{len(left)} messages are not Japanese first:\n" + "\n".join(left)


def _api_routes(app: FastAPI) -> list[tuple[str, str]]:
    routes = [(method, str(r.path)) for r in iter_route_contexts(app.routes)
              if isinstance(r.original_route, APIRoute) and (r.path or "").startswith("/api/v1/")
              for method in sorted(r.methods or ()) if method not in ("GET", "HEAD")]
    return routes


def test_every_api_route_refuses_a_bad_body_in_japanese(app: FastAPI, client: TestClient, db: Session,
                                                        factory: Factory, clock: FakeClock) -> None:
    """Each write route of every router gets an empty and an unknown-field body: every field is named in Japanese."""
    boss = factory.person(roles=("admin", "officer", "agency_staff", "auditor", "analyst", "researcher"))
    db.commit()
    headers = {**bearer(db, boss, clock), **JA}
    routes = _api_routes(app)
    assert len(routes) > 60
    found, refused = [], 0
    for method, path in routes:
        concrete = re.sub(r"\{(\w+)\}", lambda m: "JST" if m.group(1) in ("code", "technology") else "999999", path)
        for body in ({}, {"x": 1}):
            answer = client.request(method, concrete, headers=headers, json=body)
            if 400 <= answer.status_code < 500:
                refused += 1
                detail = str(answer.json().get("detail", ""))
                if words := english_words(detail, *body):
                    found.append(f"{method} {concrete} {answer.status_code}: {detail} {words}")
    assert refused > 100
    assert not found, "\n".join(found)


# What the refusal of an upload lists as accepted: file types by their own names.
FILE_NAMES = ALLOWED | LATIN_NAMES | {"docx", "xlsx", "pptx", "PNG", "JPEG", "GIF"}
EXE = b"MZ" + b"\x90\x00" * 100  # the start of a Windows executable
ITEM = {"title": "報告", "matter": "useful_information", "category": "other", "provenance": "government"}


def _package_cases(cast: Cast, w: World, proposal_id: int, clock: FakeClock) -> list[tuple[Person, str, str, dict[str, Any]]]:
    """Bad requests that reach the services of each package (not only the schemas): who, method, path, request."""
    item = {"council_id": str(cast.council.id), **ITEM}
    soon = (clock.now() + timedelta(days=30)).isoformat()
    return [
        # information: an upload that is an executable, a designation without an end or a reason, a bad import
        (cast.officer, "post", "/api/v1/information/items", {"data": item, "files": [("files", ("evil.exe", EXE))]}),
        (cast.officer, "post", "/api/v1/information/items", {"data": {**item, "designate": "true"}}),
        (cast.officer, "post", "/api/v1/information/items",
         {"data": {**item, "designate": "true", "ends_at": soon, "scope_kind": "named"}}),
        (cast.officer, "post", "/api/v1/information/items/import",
         {"data": {"council_id": str(cast.council.id)}, "files": [("file", ("event.json", b"{not json"))]}),
        # programme: a panel member who is no reviewer, a decision before the call closes, a registry without columns,
        # a withdrawal by someone else
        (w.staff, "post", f"/api/v1/programme/calls/{w.call.id}/panel", {"json": {"user_id": w.lead.user.id}}),
        (w.staff, "post", f"/api/v1/programme/proposals/{proposal_id}/decision",
         {"json": {"outcome": "adopt", "reason": "良い", "notice_reason": "良い"}}),
        (w.staff, "post", f"/api/v1/programme/proposals/{proposal_id}/decision",
         {"json": {"outcome": "たぶん", "reason": "良い", "notice_reason": "良い"}}),
        (w.staff, "post", "/api/v1/programme/registry/import", {"json": {"format": "csv", "content": "a,b\n1,2\n"}}),
        (w.staff, "post", f"/api/v1/programme/proposals/{proposal_id}/withdraw", {}),
        # accounts: a weak password for an organisation that does not exist, a scope nobody holds
        (cast.extra["admin"], "post", "/api/v1/users",
         {"json": {"email": "new@test.example.jp", "name_ja": "新人", "name_en": "New", "organization_id": 999999,
                   "password": "aaaaaaa", "roles": ["researcher"]}}),
        (cast.officer, "post", "/api/v1/tokens", {"json": {"scopes": ["no:such"]}}),
        (cast.officer, "post", "/api/v1/tokens", {"json": {"scopes": ["audit:read"]}}),
        # audit: proofs asked the wrong way round
        (cast.extra["auditor"], "get", "/api/v1/audit/consistency?first=5&second=2", {}),
        # notifications: one that is not the caller's
        (cast.officer, "post", "/api/v1/notifications/999999/read", {}),
    ]


def test_service_refusals_of_every_package_read_in_japanese(client: TestClient, db: Session, factory: Factory,
                                                            clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cast.extra["admin"] = factory.person(roles=("admin",))
    cast.extra["auditor"] = factory.person(roles=("auditor",))
    w = build_world(db, factory, clock)
    proposal = submit(db, w, clock)
    db.commit()
    found: dict[str, list[str]] = {}
    for person, method, path, request in _package_cases(cast, w, proposal.id, clock):
        answer = getattr(client, method)(path, headers={**bearer(db, person, clock), **JA}, **request)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:300])
        detail = answer.json()["detail"]
        typed = [str(v) for part in request.values() if isinstance(part, dict) for v in part.values()]
        # CSV column names are what the file must hold (the registry import names the missing ones).
        if words := english_words(detail, *typed, "evil.exe", "event.json", "no:such", "audit:read",
                                  "record, code, name_ja", names=FILE_NAMES):
            found[f"{method} {path}"] = [detail, *words]
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_an_executable_upload_is_refused_in_japanese_on_the_page(client: TestClient, db: Session, cast: Cast,
                                                                 ctx: AppContext) -> None:
    # The outside tester's example (issue 14): 「ファイル」'evil.exe' is a Windows executable… on a Japanese page.
    token = sign_in(client, db, cast.officer, ctx)
    answer = client.post(f"/councils/{cast.council.id}/information", data={"csrf_token": token, **ITEM},
                         files=[("files", ("evil.exe", EXE, "application/octet-stream"))])
    assert answer.status_code == 422, answer.text[:500]
    text = alert_text(answer.text)
    assert "Windows 実行ファイル" in text and not english_words(text, "evil.exe", names=FILE_NAMES), text


def _multipart_cases() -> list[tuple[str, bytes, str]]:
    """Bodies Starlette's multipart parser refuses with an English-only reason, and the Japanese expected."""
    many_files = b"".join(b'--X\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\na\r\n'
                          for _ in range(1001)) + b"--X--\r\n"
    many_fields = b"".join(b'--X\r\nContent-Disposition: form-data; name="f"\r\n\r\na\r\n'
                           for _ in range(1001)) + b"--X--\r\n"
    return [
        ("multipart/form-data; boundary=X", b"--Y\r\n", "壊れて"),
        ("multipart/form-data", b"--X\r\n", "区切り"),
        ("multipart/form-data; boundary=X", many_files, "ファイルが多すぎます"),
        ("multipart/form-data; boundary=X", many_fields, "項目が多すぎます"),
    ]


@pytest.mark.parametrize("content_type,body,expected", _multipart_cases())
def test_a_malformed_form_is_refused_in_japanese(client: TestClient, db: Session, cast: Cast, clock: FakeClock,
                                                 ctx: AppContext, content_type: str, body: bytes,
                                                 expected: str) -> None:
    """O1 (outside tester, issue 14): Starlette's own multipart refusals ("Invalid multipart data." …) read
    Japanese first in the API's detail and on the error page."""
    headers = {**bearer(db, cast.officer, clock), **JA, "Content-Type": content_type}
    api = client.post(f"/api/v1/councils/{cast.council.id}/requests/1/answer", headers=headers, content=body)
    assert api.status_code == 400, api.text[:300]
    assert expected in api.json()["detail"] and not english_words(api.json()["detail"]), api.json()
    assert api.json()["message"].split(" / ")[0] == api.json()["detail"]
    sign_in(client, db, cast.officer, ctx)
    page = client.post(f"/councils/{cast.council.id}/requests/1/answer", headers={"Content-Type": content_type},
                       content=body)
    assert page.status_code == 400 and expected in page.text, page.text[:500]


def test_a_file_without_a_name_is_refused_as_choose_a_file(client: TestClient, db: Session, cast: Cast,
                                                           clock: FakeClock) -> None:
    """An upload whose file name is empty (the client drops ``filename=""``, so the binary part looks like a text
    field) is 「ファイルを選んでください」, not "form field 'file' is not UTF-8 text"."""
    answer = client.post(f"/api/v1/councils/{cast.council.id}/requests/1/answer",
                         headers={**bearer(db, cast.officer, clock), **JA}, data={"text": "回答"},
                         files=[("files", ("", b"\x89PNG\r\n\x1a\n\xff\xfe", "image/png"))])
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"].startswith("ファイルを選んでください"), answer.json()
    assert "choose a file" in answer.json()["message"]


FIELD_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def field_codes_in_japanese_half(message: str) -> list[str]:
    """Return the snake_case field codes (``due_on``) the Japanese half of ``message`` shows outside brackets or quotes.

    A code in brackets after its Japanese name (「項目（item_id）」) or quoted as a format's own key (「spec_version」)
    may stay: the reader then has both.
    """
    first = message.partition(" / ")[0]
    first = re.sub(r"（[^）]*）|\([^)]*\)|「[^」]*」|'[^']*'", "", first)
    return FIELD_CODE.findall(first)


def test_the_japanese_half_names_fields_in_japanese() -> None:
    # Session 10 leftover: 「due_at は…」 told a Japanese reader the API's field code, not the field he filled in.
    assert field_codes_in_japanese_half("due_on 2030-01-01 が期間外です / due_on is outside") == ["due_on"]
    assert not field_codes_in_japanese_half("項目（item_id）を指定してください / name item_id")
    found = [f"{where}: {text}" for where, text in literal_messages() if field_codes_in_japanese_half(text)]
    assert not found, "\n".join(found)

"""People pickers grouped by organisation, with a filter box, and no Ctrl-click multi-selects (issue 14).

Founders, invitations, the designation scope and reviewers are picked from lists grouped by organisation
(<tbody>/<optgroup>/<fieldset> with the organisation's name); each list has a filter box that pickers.js
shows (hidden in the HTML, so without script the grouped list is the whole picker).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.councils import active_council
from tests.support.factories import Factory
from tests.support.http import sign_in
from tests.support.programme import build_world

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "banso" / "web" / "templates"


def _groups(html: str, tag: str, container_id: str) -> dict[str, set[str]]:
    """Return {group label: ids of the people in it} of the grouped picker ``container_id``."""
    start = html.index(f'id="{container_id}"')
    end = html.index({"optgroup": "</select>", "tbody": "</table>", "fieldset": "</div>"}[tag], start)
    block = html[start:end]
    found: dict[str, set[str]] = {}
    if tag == "optgroup":
        for label, inner in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', block, re.DOTALL):
            found[label] = set(re.findall(r'<option value="(\d+)"', inner))
    elif tag == "tbody":
        for inner in re.findall(r"<tbody[^>]*>(.*?)</tbody>", block, re.DOTALL):
            label = re.search(r'<th scope="rowgroup"[^>]*>(.*?)</th>', inner, re.DOTALL)
            assert label is not None
            found[label.group(1).strip()] = set(re.findall(r'data-user-id="(\d+)"', inner))
    else:
        for label, inner in re.findall(r'<fieldset class="people-group"[^>]*>\s*<legend>(.*?)</legend>(.*?)</fieldset>',
                                       block, re.DOTALL):
            found[label.strip()] = set(re.findall(r'type="checkbox" name="\w+" value="(\d+)"', inner))
    return found


def _has_filter(html: str, target: str) -> bool:
    return bool(re.search(r'<div class="people-filter" data-people-filter hidden>\s*<label[^>]*>[^<]+</label>\s*'
                          rf'<input type="search" id="{re.escape(target)}-filter" data-filter-for="{re.escape(target)}"',
                          html))


def test_founders_are_grouped_by_organisation(client: TestClient, db: Session, factory: Factory,
                                              ctx: AppContext) -> None:
    lab = factory.org(name="海洋研究所")
    a, b = factory.person(org=lab), factory.person(org=lab)
    c = factory.person(roles=("industry",), org=factory.org(kind="company", name="深海工業"))
    officer = factory.person(roles=("officer",))
    db.commit()
    sign_in(client, db, officer, ctx)
    page = client.get("/councils/new").text
    groups = _groups(page, "tbody", "founder-table")
    assert groups["海洋研究所"] == {str(a.user.id), str(b.user.id)}
    assert groups["深海工業"] == {str(c.user.id)}
    assert _has_filter(page, "founder-table")
    assert f'data-filter-text="{a.user.name_ja} 海洋研究所' in page


def test_invitations_are_grouped_by_organisation(client: TestClient, db: Session, factory: Factory,
                                                 clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    lab = factory.org(name="海洋研究所")
    a, b = factory.person(org=lab), factory.person(org=lab)
    db.commit()
    sign_in(client, db, cast.officer, ctx)
    page = client.get(f"/councils/{cast.council.id}").text
    groups = _groups(page, "optgroup", "invite-user")
    assert groups["海洋研究所"] == {str(a.user.id), str(b.user.id)}
    assert all(len(ids) >= 1 for ids in groups.values()) and len(groups) >= 2
    assert _has_filter(page, "invite-user")


def test_designation_scope_is_checkboxes_grouped_by_organisation(client: TestClient, db: Session, factory: Factory,
                                                                  clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    sign_in(client, db, cast.company, ctx)
    page = client.get(f"/councils/{cast.council.id}/information/new").text
    assert not re.search(r"<select[^>]*\bmultiple\b", page)  # no Ctrl-click multi-select
    groups = _groups(page, "fieldset", "new-users")
    members = [cast.officer, cast.researcher, cast.company]
    for person in members:
        org = person.user.organization.name_ja
        assert str(person.user.id) in groups[org]
    assert re.search(r'type="checkbox" name="organization_ids" value="\d+"', page)
    assert _has_filter(page, "new-users")


def test_reviewers_are_grouped_by_organisation(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                               ctx: AppContext) -> None:
    w = build_world(db, factory, clock)
    db.commit()
    sign_in(client, db, w.staff, ctx)
    page = client.get(f"/programme/calls/{w.call.id}").text
    groups = _groups(page, "optgroup", "panel-user")
    off = w.reviewer_off_panel.user
    assert str(off.id) in groups[off.organization.name_ja]
    assert _has_filter(page, "panel-user")


def test_no_template_keeps_a_multi_select() -> None:
    """Ctrl-click multi-selects are unusable on phones and by many people: checkboxes instead (issue 14)."""
    offenders = [p.name for p in TEMPLATES.rglob("*.html") if re.search(r"<select[^>]*\bmultiple\b", p.read_text())]
    assert offenders == []

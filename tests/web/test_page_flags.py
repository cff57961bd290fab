"""Every page's action controls are the service's decision (I12, issue 12: views do not decide).

For the council page and the information item page, and for people in every standing — secretariat,
chair, provider, a pledged member, an unpledged member, an observer, an ex-member, a member whose session
has no second factor, an outsider — the page is rendered over HTTP and the controls it offers (forms and
links found by their action, href or id) are compared with what the service returns for the same person:
the flags of ``information.service.read_item`` / ``councils.service.get_council``, and where a control
has no flag of its own, the service's answer to the action itself, tried in a savepoint that is rolled
back. A view that recomputes a flag its own way shows a control the service refuses, or hides one it
allows, and the comparison names the person, the page and the control.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.information import service
from banso.information.deps import InformationDeps, information_deps
from banso.information.models import Ballot, Item, ItemFile
from banso.kit.clock import FakeClock
from banso.kit.errors import BansoError
from banso.leak.pdf import make_sample_pdf
from banso.web.context import AppContext
from tests.support.councils import Cast, establish, join
from tests.support.factories import Factory, Person
from tests.support.http import sign_in
from tests.support.information import answer_ballot

PDF = make_sample_pdf("評価報告", ["水中航法の誤差は 0.3%。"])
YEAR = timedelta(days=365)
PERSONAS = ("secretariat", "chair", "provider", "member", "unpledged", "observer", "ex_member",
            "no_second_factor", "outsider")


@dataclass
class Scene:
    """An active council with one person in each standing, and items in the states that offer actions."""

    cast: Cast
    people: dict[str, Person]
    items: dict[str, Item]
    dormant: Cast  # an established council not yet active, whose founders have not pledged


def _items(db: Session, deps: InformationDeps, cast: Cast, people: dict[str, Person],
           clock: FakeClock) -> dict[str, Item]:
    def provide(by: Person, **fields: Any) -> Item:
        base: dict[str, Any] = {"title": "AUV 航法評価", "summary": "概要", "body": "本文：誤差 0.3%。",
                                   "matter": "useful_information", "category": "sampling_data",
                                   "provenance": "participant",
                                   "files": [service.Upload("評価報告.pdf", "application/pdf", PDF)]}
        return service.create_item(db, deps, council_id=cast.council.id, actor=by.principal(), now=clock.now(),
                                   **{**base, **fields})

    shared = provide(people["provider"])
    designated = provide(people["provider"], designation=service.DesignationInput(
        reason="輸出管理上の懸念", scope_kind="named", user_ids=[people["chair"].user.id, people["member"].user.id],
        ends_at=clock.now() + YEAR, handling=("view_only",)))
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == designated.id))
    assert ballot is not None
    answer_ballot(db, ballot, list(people.values()), clock)
    result = provide(people["chair"], category="research_result", provenance="researcher_generated",
                     publish_at=clock.now() + YEAR)
    partial = provide(people["provider"])  # one file held for a vote that is still open (I3 range, I4)
    file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == partial.id))
    assert file_id is not None
    service.propose_designation(db, item_id=partial.id, actor=people["provider"].principal(), now=clock.now(),
                                designation=service.DesignationInput(
                                    reason="一部の図表", scope_kind="named", user_ids=[people["chair"].user.id],
                                    ends_at=clock.now() + YEAR, file_ids=[file_id]), deps=deps)
    withheld = provide(people["chair"], category="research_result", provenance="researcher_generated")
    request = service.request_nondisclosure(db, item_id=withheld.id, actor=people["secretariat"].principal(),
                                            now=clock.now(), reason_code="wmd_diversion", reason="転用のおそれ")
    answer_ballot(db, request, list(people.values()), clock)  # withheld until its review date (I6, I13)
    return {"shared": shared, "designated": designated, "result": result, "partial_open": partial,
            "withheld": withheld}


@pytest.fixture
def scene(factory: Factory, db: Session, clock: FakeClock, ctx: AppContext) -> Scene:
    cast = establish(factory, db, clock)
    people = {"secretariat": cast.officer, "chair": cast.researcher, "provider": cast.company,
              "member": join(cast, db, clock, factory.person()),
              "unpledged": join(cast, db, clock, factory.person(), pledge=False),
              "observer": join(cast, db, clock, factory.person(), role="observer"),
              "ex_member": join(cast, db, clock, factory.person()),
              "no_second_factor": join(cast, db, clock, factory.person(with_totp=False)),
              "outsider": cast.outsider}
    items = _items(db, information_deps(ctx), cast, people, clock)
    councils.leave(db, council_id=cast.council.id, actor=people["ex_member"].principal(), now=clock.now())
    dormant = establish(factory, db, clock, pledge=False, activate=False)
    db.commit()
    assert [i.state for i in items.values()] == ["council", "designated", "scheduled", "council", "withheld"]
    return Scene(cast=cast, people=people, items=items, dormant=dormant)


def _principal(person: Person):  # type: ignore[no-untyped-def]
    return person.principal(mfa=person.totp_secret is not None)


def _accepts(db: Session, action: Callable[[], object]) -> bool:
    """Return whether the service carries out ``action``; nothing of it stays (savepoint rolled back)."""
    attempt = db.begin_nested()
    try:
        action()
        return True
    except BansoError:
        return False
    finally:
        attempt.rollback()


def _served(page: httpx.Response, who: str) -> bool:
    """Return whether the page was served; a session without a second factor is sent to enrol one (I7) and
    is offered nothing at all."""
    if who == "no_second_factor":
        assert page.status_code == 303 and page.headers["location"] == "/account/2fa/setup", page.status_code
        return False
    return True


def _shown(html: str, *markers: str) -> bool:
    return any(marker in html for marker in markers)


# ---------------------------------------------------------------------------------------------
# The information item page


def _item_controls(html: str, item_id: int) -> dict[str, object]:
    """The action controls the item page offers, found by their stable ids and actions."""
    base = f"/information/items/{item_id}"
    return {
        "body_download": _shown(html, 'id="body-download"'),
        "publish": _shown(html, 'id="publish-form"'),
        "propose_publication": _shown(html, 'id="publication-form"'),
        "add_version": _shown(html, f'action="{base}/versions"'),
        "propose_designation": _shown(html, 'id="designation-form"'),
        "renew": _shown(html, 'id="renewal-form"'),
        "nondisclosure": _shown(html, 'id="nondisclosure-form"'),
        "withheld_renewal": _shown(html, 'id="withheld-renewal-form"'),
        "release": _shown(html, 'id="release-form"'),
        "export": _shown(html, 'id="export-links"'),
        "downloads": frozenset(int(f) for f in re.findall(rf'href="{base}/files/(\d+)" class="file-link"', html)),
    }


def _item_decisions(db: Session, deps: InformationDeps, person: Person, item: Item,
                    clock: FakeClock) -> dict[str, object] | None:
    """What the service decides for ``person`` on ``item`` (None: the item is not theirs to read)."""
    actor, now = _principal(person), clock.now()
    reading = db.begin_nested()
    try:
        view = service.read_item(db, deps, item_id=item.id, actor=actor, now=now)
    except BansoError:
        return None
    finally:
        reading.rollback()
    current = db.get(Ballot, item.current_designation_id) if item.current_designation_id else None
    current_end = current.ends_at if current is not None else None
    designation = service.DesignationInput(reason="懸念", scope_kind="named", user_ids=[actor.user_id],
                                           ends_at=now + YEAR)
    decided: dict[str, object] = {
        "body_download": view.may_take_copy,
        "publish": view.can_publish,
        "propose_publication": view.can_propose_publication,
        "add_version": view.can_add_version,
        "export": view.can_manage and view.may_take_copy,  # the template's one composition of two service flags
        "propose_designation": _accepts(db, lambda: service.propose_designation(
            db, item_id=item.id, actor=actor, now=now, designation=designation, deps=deps)),
        "renew": current_end is not None and _accepts(db, lambda: service.propose_renewal(
            db, item_id=item.id, actor=actor, now=now, ends_at=current_end + timedelta(days=30), reason="延長")),
        "nondisclosure": _accepts(db, lambda: service.request_nondisclosure(
            db, item_id=item.id, actor=actor, now=now, reason_code="national_security", reason="理由")),
        "withheld_renewal": _accepts(db, lambda: service.propose_withheld_renewal(
            db, item_id=item.id, actor=actor, now=now, reason="継続")),
        "release": _accepts(db, lambda: service.propose_release(db, item_id=item.id, actor=actor, now=now,
                                                                reason="解除")),
        "downloads": frozenset(view.downloadable),
    }
    # The service's own flags for these say what its actions do (the page renders the flags).
    flags = {"propose_designation": view.may_propose, "renew": view.may_renew,
             "nondisclosure": view.may_request_nondisclosure, "withheld_renewal": view.may_renew_withholding,
             "release": view.may_propose_release}
    assert flags == {k: decided[k] for k in flags}, (person.email, item.state, flags)
    return decided


def test_the_item_page_offers_exactly_what_the_service_decides(client: TestClient, db: Session, scene: Scene,
                                                              ctx: AppContext, clock: FakeClock) -> None:
    deps = information_deps(ctx)
    offered: set[tuple[str, str, str]] = set()
    for who in PERSONAS:
        person = scene.people[who]
        sign_in(client, db, person, ctx)
        for kind, item in scene.items.items():
            page = client.get(f"/information/items/{item.id}", follow_redirects=False)
            decided = _item_decisions(db, deps, person, item, clock)
            if not _served(page, who):
                assert decided is None  # the service, too, keeps every item from a session without it
                continue
            assert (page.status_code == 200) == (decided is not None), (who, kind, page.status_code)
            if decided is None:
                continue
            shown = _item_controls(page.text, item.id)
            assert shown == decided, (who, kind, {k: (shown[k], decided[k]) for k in shown if shown[k] != decided[k]})
            offered |= {(who, kind, k) for k, v in decided.items() if v is True}
    # The scene must exercise every control for somebody, or the comparison proves little.
    assert {k for _, _, k in offered} >= {"body_download", "publish", "propose_publication", "add_version",
                                           "propose_designation", "renew", "nondisclosure", "export",
                                           "withheld_renewal", "release"}


# ---------------------------------------------------------------------------------------------
# The council page


def _council_controls(html: str, council_id: int) -> dict[str, bool]:
    base = f"/councils/{council_id}"
    return {
        "content": _shown(html, 'id="meetings"'),
        "invite": _shown(html, f'action="{base}/invitations"'),
        "roles": _shown(html, f'action="{base}/roles"'),
        "schedule_meeting": _shown(html, f'action="{base}/meetings"'),
        "request_material": _shown(html, f'action="{base}/requests"'),
        "activate": _shown(html, f'action="{base}/activate"'),
        "dissolve": _shown(html, f'action="{base}/dissolve"'),
    }


def _council_decisions(db: Session, person: Person, council_id: int, clock: FakeClock) -> dict[str, bool] | None:
    actor, now = _principal(person), clock.now()
    try:
        view = councils.get_council(db, council_id=council_id, actor=actor)
    except BansoError:
        return None
    manage = view.can_manage
    return {
        "content": view.content_block is None,
        "invite": manage, "roles": manage, "schedule_meeting": manage, "request_material": manage,
        "activate": _accepts(db, lambda: councils.activate(db, council_id=council_id, actor=actor, now=now)),
        "dissolve": _accepts(db, lambda: councils.dissolve(db, council_id=council_id, actor=actor, now=now,
                                                           reason="試験")),
    }


def test_the_council_page_offers_exactly_what_the_service_decides(client: TestClient, db: Session, scene: Scene,
                                                                 ctx: AppContext, clock: FakeClock) -> None:
    dormant = scene.dormant
    visits = [(who, scene.people[who], scene.cast.council.id) for who in PERSONAS] + [
        ("unpledged secretariat", dormant.officer, dormant.council.id),
        ("unpledged chair", dormant.researcher, dormant.council.id),
        ("unpledged founder", dormant.company, dormant.council.id)]
    offered: set[str] = set()
    for who, person, council_id in visits:
        sign_in(client, db, person, ctx)
        page = client.get(f"/councils/{council_id}", follow_redirects=False)
        decided = _council_decisions(db, person, council_id, clock)
        if not _served(page, who):
            assert decided is not None and not any(decided.values())  # the public page only: nothing to act on
            continue
        assert (page.status_code == 200) == (decided is not None), (who, page.status_code)
        if decided is None:
            continue
        shown = _council_controls(page.text, council_id)
        assert shown == decided, (who, {k: (shown[k], decided[k]) for k in shown if shown[k] != decided[k]})
        offered |= {k for k, v in decided.items() if v}
    assert offered == set(_council_controls("", 0))  # every control is offered to somebody

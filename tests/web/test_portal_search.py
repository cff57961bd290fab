"""The public portal (issue 14, I6): text search over title and summary, technology facets from the registry,
project and DOI links, paging — and only published items, whoever asks (I7, I12)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.app.portal import PAGE_SIZE, doi_in
from banso.councils import service as councils
from banso.information import service
from banso.information.deps import information_deps
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory, Person
from tests.support.http import sign_in
from tests.support.programme import adopt, build_world, establish_council, submit


def result(db: Session, ctx: AppContext, council_id: int, author: Person, clock: FakeClock, title: str,
           summary: str = "成果の概要") -> int:
    """Provide a researcher-generated result (public once its prior-notice window ends, I13)."""
    item = service.create_item(db, information_deps(ctx), council_id=council_id, actor=author.principal(),
                               now=clock.now(), title=title, summary=summary, body="公開本文",
                               matter="rd_content_and_results", category="research_result",
                               provenance="researcher_generated")
    return item.id


def council_only(db: Session, ctx: AppContext, cast: Cast, clock: FakeClock, title: str) -> int:
    """Provide an item shared in the council only (never public)."""
    item = service.create_item(db, information_deps(ctx), council_id=cast.council.id,
                               actor=cast.company.principal(), now=clock.now(), title=title,
                               summary="量子 協議会内のみ 10.9999/secret", body="本文", matter="useful_information",
                               category="sampling_data", provenance="participant")
    return item.id


def publish_all(db: Session, clock: FakeClock) -> None:
    """Let the prior-notice windows end and run the due job (I13)."""
    clock.advance(days=31)
    service.run_due_information(db, now=clock.now())
    db.commit()


def listed(html: str) -> list[int]:
    """Return the item ids the portal lists, in order."""
    return [int(i) for i in re.findall(r'<li data-item-id="(\d+)"', html)]


def test_search_finds_title_and_summary_text_and_only_published_items(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    cid = cast.council.id
    auv = result(db, ctx, cid, cast.researcher, clock, "AUV 航法の成果")
    quantum = result(db, ctx, cid, cast.researcher, clock, "海中測位の成果",
                     summary="量子慣性センサの評価（DOI: 10.1234/jst.k-2026.0042）。")
    secret = council_only(db, ctx, cast, clock, "量子 協議会内の資料")
    db.commit()
    publish_all(db, clock)

    assert listed(client.get("/public").text) == [quantum, auv]
    found = client.get("/public", params={"q": "量子"}).text  # in the summary
    assert listed(found) == [quantum]
    assert 'href="https://doi.org/10.1234/jst.k-2026.0042"' in found
    assert listed(client.get("/public", params={"q": "auv"}).text) == [auv]  # any case, in the title
    assert listed(client.get("/public", params={"q": "成果"}).text) == [quantum, auv]
    none = client.get("/public", params={"q": "協議会内"}).text  # the council-only item never matches
    assert listed(none) == [] and 'id="portal-none"' in none and "10.9999/secret" not in none
    assert client.get("/public", params={"q": "100%_"}).status_code == 200  # LIKE wildcards are literal
    assert listed(client.get("/public", params={"q": "%"}).text) == []
    # Signed in as a pledged member, the portal still lists only what is published.
    sign_in(client, db, cast.company, ctx)
    assert secret not in listed(client.get("/public", params={"q": "量子"}).text)
    assert client.get("/public", params={"q": "x" * 201}).status_code == 400  # O1: a clear 4xx
    assert client.get("/public", params={"page": 0}).status_code == 400


def test_results_are_paged_twenty_at_a_time(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                             ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    ids = [result(db, ctx, cast.council.id, cast.researcher, clock, f"成果 第{n}号") for n in range(PAGE_SIZE + 3)]
    db.commit()
    publish_all(db, clock)
    first = client.get("/public", params={"q": "成果"}).text
    assert len(listed(first)) == PAGE_SIZE and 'id="portal-total">(全23件)' in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    nxt = re.search(r'href="([^"]+)" rel="next"', first)
    assert nxt and "q=%E6%88%90%E6%9E%9C" in nxt.group(1)  # the search is kept across pages
    second = client.get(nxt.group(1).replace("&amp;", "&")).text
    assert len(listed(second)) == 3 and 'rel="prev"' in second and 'rel="next"' not in second
    assert sorted(listed(first) + listed(second)) == sorted(ids)
    assert listed(client.get("/public", params={"page": 99}).text) == []


def test_technology_facets_come_from_the_registry_and_projects_link_only_for_those_who_may_see_them(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    w = build_world(db, factory, clock)
    project = adopt(db, w, clock, submit(db, w, clock))
    establish_council(db, w, clock, project)
    assert project.council_id is not None
    councils.sign_pledge(db, council_id=project.council_id, actor=w.lead.principal(), now=clock.now(),
                         bylaws_version=1)
    in_project = result(db, ctx, project.council_id, w.lead, clock, "海中航法の実証成果")
    other = active_council(factory, db, clock)
    elsewhere = result(db, ctx, other.council.id, other.researcher, clock, "別の協議会の成果")
    db.commit()
    publish_all(db, clock)

    portal = client.get("/public").text
    assert sorted(listed(portal)) == sorted([in_project, elsewhere])
    facet = re.search(r'data-tech="V1-OC-02"[^>]*>([^<]+)</a> <span class="muted">\((\d+)\)', portal)
    assert facet and facet.group(2) == "1"  # the call's registry technology, named from the registry
    narrowed = client.get("/public", params={"tech": "V1-OC-02"}).text
    assert listed(narrowed) == [in_project]
    assert listed(client.get("/public", params={"tech": "NOT-A-CODE"}).text) == listed(portal)  # unknown: ignored
    assert "/programme/projects/" not in portal  # the anonymous public is not shown the project
    sign_in(client, db, w.lead, ctx)
    mine = client.get("/public", params={"tech": "V1-OC-02"}).text
    link = f'href="/programme/projects/{project.id}"'
    assert link in mine and client.get(f"/programme/projects/{project.id}").status_code == 200
    sign_in(client, db, other.researcher, ctx)
    assert link not in client.get("/public").text  # not on the project's team: no link (it would answer 404)


def test_doi_is_read_from_the_text() -> None:
    assert doi_in("DOI: 10.1038/s41586-020-2649-2.") == "10.1038/s41586-020-2649-2"
    assert doi_in("論文（10.1234/abc）を参照") == "10.1234/abc"
    assert doi_in("no identifier 10.12/x") is None

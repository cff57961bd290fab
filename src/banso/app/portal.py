"""The public portal (公開成果, I6): published results with text search, technology facets, project and DOI links.

It sits in the composition root because it joins two domains: the published items (information) and the
technology registry and projects (programme, above information). Only published items are ever read (the same
``state = public`` rule as ``information.repository.public_items``); a project is named and linked only for a
reader who may see it (programme policy), never for the anonymous public.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.information import repository as info_repo
from banso.information.models import Item
from banso.programme import repository as programme_repo
from banso.programme import service as programme
from banso.programme.models import VisionTechnology
from banso.web.deps import Auth, Db
from banso.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 10_000
QUERY_MAX = 200
# A DOI as Crossref describes it (10.<registrant>/<suffix>), as researchers write it into a result's summary.
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>　、。）)]+)")


@dataclass(frozen=True)
class Facet:
    """A registry technology with how many matching results belong to it."""

    code: str
    name_ja: str
    name_en: str
    count: int


@dataclass(frozen=True)
class ProjectLink:
    """A project a result comes from, for a reader who may open it."""

    id: int
    title: str


@dataclass(frozen=True)
class Result:
    """One published item as the portal lists it."""

    item: Item
    technologies: list[VisionTechnology]
    projects: list[ProjectLink]
    doi: str | None


@dataclass(frozen=True)
class PortalPage:
    """One page of the portal."""

    results: list[Result]
    total: int
    page: int
    pages: int
    query: str
    tech: str | None
    facets: list[Facet]


def doi_in(text: str) -> str | None:
    """Return the first DOI written in ``text`` (trailing punctuation left out), or None."""
    found = _DOI.search(text or "")
    return found.group(1).rstrip(".,;:") if found else None


def _technology_map(session: Session) -> tuple[dict[int, list[str]], dict[int, list[tuple[int, str]]]]:
    codes: dict[int, list[str]] = {}
    projects: dict[int, list[tuple[int, str]]] = {}
    for council_id, project_id, title, tech_codes in programme_repo.council_technologies(session):
        codes.setdefault(council_id, [])
        codes[council_id] += [c for c in tech_codes if c not in codes[council_id]]
        projects.setdefault(council_id, []).append((project_id, title))
    return codes, projects


def search(session: Session, *, reader: Principal | None, query: str, tech: str | None, page: int) -> PortalPage:
    """Return one page of published results matching ``query`` (title or summary) and technology ``tech``."""
    codes, projects = _technology_map(session)
    registry = {t.code: t for t in programme_repo.technologies(session)}
    text = query.strip()[:QUERY_MAX] or None
    counts: dict[str, int] = {}
    for council_id, n in info_repo.public_councils_matching(session, text=text).items():
        for code in codes.get(council_id, []):
            counts[code] = counts.get(code, 0) + n
    chosen = tech if tech in registry else None
    council_ids = None if chosen is None else [cid for cid, cs in codes.items() if chosen in cs]
    page = max(1, min(page, MAX_PAGE))
    items, total = info_repo.public_search(session, text=text, council_ids=council_ids, limit=PAGE_SIZE,
                                           offset=(page - 1) * PAGE_SIZE)
    visible = {p.id for p in programme.list_projects(session, actor=reader)} if reader is not None else set()
    results = [Result(item=i, technologies=[registry[c] for c in codes.get(i.council_id, []) if c in registry],
                      projects=[ProjectLink(pid, title) for pid, title in projects.get(i.council_id, [])
                                if pid in visible],
                      doi=doi_in(f"{i.title} {i.summary}")) for i in items]
    facets = sorted((Facet(code=c, name_ja=registry[c].name_ja, name_en=registry[c].name_en, count=n)
                     for c, n in counts.items() if c in registry), key=lambda f: (-f.count, f.code))
    return PortalPage(results=results, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                      query=text or "", tech=chosen, facets=facets)


@router.get("/public", response_class=HTMLResponse)
def public_portal(request: Request, auth: Auth, db: Db,
                  q: Annotated[str, Query(max_length=QUERY_MAX)] = "",
                  tech: Annotated[str | None, Query(max_length=30)] = None,
                  page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1) -> HTMLResponse:
    """List the published results (anyone, no login), searched and narrowed by technology, a page at a time."""
    found = search(db, reader=auth.principal, query=q, tech=tech, page=page)
    return render(request, "information/public_list.html", {"portal": found, "items": [r.item for r in found.results]})

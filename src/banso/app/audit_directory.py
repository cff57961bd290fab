"""The audit log's directory (issue 14): names for the people and subjects its entries hold.

Lives in the composition root because it reads several domains (people, councils, items) and asks
their policies whether the viewer may follow a link: an item is linked only when the gate lets the
viewer read its page, a council only when its page would show (never a link that answers 403/404).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Organization, User
from banso.audit.directory import OrgChoice, PersonChoice, PersonLabel, SubjectLabel
from banso.audit.tags import SUBJECT_KINDS
from banso.authz import egress, gate
from banso.authz.policies import accounts as account_policy
from banso.authz.policies import councils as council_policy
from banso.authz.principal import Principal
from banso.councils.models import Council


def _person_name(user: User, locale: str) -> str:
    return user.name_en if locale == "en" else user.name_ja


def _org_name(org: Organization, locale: str) -> str:
    return org.name_en if locale == "en" else org.name_ja


class DomainDirectory:
    """Names from the accounts, councils and information tables; links decided by their policies."""

    def people(self, session: Session, user_ids: Iterable[int], *, locale: str) -> dict[int, PersonLabel]:
        """Return name and organisation of each person (one statement: the organisation is joined)."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        users = session.scalars(select(User).where(User.id.in_(ids)))
        return {u.id: PersonLabel(name=_person_name(u, locale), organisation=_org_name(u.organization, locale))
                for u in users}

    def member_ids(self, session: Session, org_id: int) -> tuple[int, ...]:
        """Return the ids of the organisation's accounts."""
        return tuple(session.scalars(select(User.id).where(User.organization_id == org_id).order_by(User.id)))

    def choices(self, session: Session, *, locale: str) -> list[OrgChoice]:
        """Return every organisation with its people, by name."""
        orgs = {o.id: o for o in session.scalars(select(Organization))}
        people: dict[int, list[PersonChoice]] = {org_id: [] for org_id in orgs}
        for u in session.scalars(select(User).order_by(User.name_ja)):
            people.setdefault(u.organization_id, []).append(PersonChoice(u.id, _person_name(u, locale)))
        found = [OrgChoice(org_id=o.id, name=_org_name(o, locale), people=tuple(people.get(o.id, ())))
                 for o in orgs.values()]
        return sorted(found, key=lambda c: c.name)

    def subjects(self, session: Session, viewer: Principal, subjects: Iterable[str], *,
                 locale: str) -> dict[str, SubjectLabel]:
        """Return a label for each subject; a link only where the viewer's page would answer 200."""
        wanted = sorted(set(subjects))
        people = self.people(session, _ids(wanted, "user"), locale=locale)
        return {s: self._one(session, viewer, s, people, locale) for s in wanted}

    def _one(self, session: Session, viewer: Principal, subject: str, people: dict[int, PersonLabel],
             locale: str) -> SubjectLabel:
        kind, _, ident = subject.partition(":")
        label = SUBJECT_KINDS.get(kind)
        if label is None or not ident:
            return SubjectLabel(kind="", ident=subject)
        number = int(ident) if ident.isdigit() else None
        if number is None:
            return SubjectLabel(kind=label, ident=ident)
        if kind == "user" and number in people:
            # A person links to their own activity on this page (the viewer reads the log already).
            href = f"/audit?actor={number}" if account_policy.can_view_user(viewer, number) else None
            return SubjectLabel(kind=label, ident=ident, name=people[number].name, href=href)
        if kind == "item":
            access = gate.item_access(session, viewer, number)
            if access is not None and access.readable and access.decide(egress.Egress.PAGE).allowed:
                return SubjectLabel(kind=label, ident=ident, name=access.item.title,
                                    href=f"/information/items/{number}")
        if kind == "council":
            where = gate.standing(session, number, viewer.user_id)
            council = session.get(Council, number)
            if where is not None and council is not None and council_policy.can_see_council(viewer, where):
                name = council.title_en if locale == "en" else council.title_ja
                return SubjectLabel(kind=label, ident=ident, name=name, href=f"/councils/{number}")
        return SubjectLabel(kind=label, ident=ident)


def _ids(subjects: Iterable[str], kind: str) -> list[int]:
    prefix = f"{kind}:"
    return [int(s[len(prefix):]) for s in subjects if s.startswith(prefix) and s[len(prefix):].isdigit()]

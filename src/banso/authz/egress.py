"""The one egress decision (DESIGN I12): how a piece of council content, or its metadata, may leave banso.

Every way out — the item page and API body, a file, the body as a file, an earlier version, the
browser viewer, an export (MISP, STIX, CSV, Excel), a list/count/search hit, a notice in the inbox
or an e-mail — asks :func:`decide` (a proposal: :func:`decide_ballot`) with the access facts the gate loaded once
(``banso.authz.gate``). Pure: no session, no clock; the facts come in, a :class:`Decision` comes out.

The decision says more than yes or no, because every caller needs the same answers and must not
re-derive them:

* ``allowed`` — the content may leave by this path;
* ``known`` — the person may know the content exists. A refusal of something known is a 403 (the
  view-only handling forbids a copy); a refusal of something unknown is a 404 (I7: out of scope
  looks missing);
* ``copy`` — what leaves is a copy of non-public content: stamped per recipient, recorded as a
  distribution and audited (I8);
* ``audited`` — the read itself is audited (A1: every read of non-public content).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from banso.authz.policies import councils as council_policy
from banso.authz.policies import information as policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal
from banso.information.models import Handling, ItemState


class Egress(StrEnum):
    """Every way content or its metadata leaves banso (I12)."""

    PAGE = "page"  # the item page and the API item body (title, summary, body, file names)
    LISTING = "listing"  # lists, counts, search hits: the item's existence and title
    NOTICE = "notice"  # an inbox entry or e-mail that names the item
    BODY = "body"  # the body as a file (body.txt)
    FILE = "file"  # one file, downloaded
    VIEW = "view"  # one file, viewed in the browser as watermarked page images
    VERSION = "version"  # an earlier version of the body
    EXPORT = "export"  # MISP / STIX / CSV / Excel export of the item


TAKES_A_COPY = frozenset({Egress.BODY, Egress.FILE, Egress.EXPORT})
NO_COPY = frozenset({Handling.VIEW_ONLY.value, Handling.NO_DOWNLOAD.value})  # I3 handling that forbids a copy


@dataclass(frozen=True)
class Decision:
    """The gate's answer for one person, one piece of content, one way out."""

    allowed: bool
    known: bool  # may know it exists: a refusal is 403, else 404 (I7)
    copy: bool = False  # stamped per recipient, distribution record, audited (I8)
    audited: bool = False  # the read is audited (A1)
    reason: str = ""

    @property
    def status(self) -> int:
        """HTTP status of a refusal: 404 when the person may not know of the content, else 403."""
        return 200 if self.allowed else (403 if self.known else 404)


NOT_FOUND = Decision(allowed=False, known=False, reason="not_readable")


@dataclass(frozen=True)
class ItemFacts:
    """What the gate loaded about one item for one person (no ORM rows: testable on its own)."""

    item: policy.ItemFacts
    standing: Standing | None
    file_range: policy.FileRange | None
    handling: tuple[str, ...]  # the whole-item designation in force (state designated)
    range_handling: tuple[str, ...]  # the partial designation in force (its files only)
    current_version: int


def _handling_for(facts: ItemFacts, file_id: int | None) -> tuple[str, ...]:
    if file_id is not None and facts.file_range is not None and file_id in facts.file_range.file_ids:
        return facts.range_handling
    return facts.handling


def decide(actor: Principal | None, facts: ItemFacts, egress: Egress, *, file_id: int | None = None,
           version: int | None = None) -> Decision:
    """Decide whether ``actor`` may take ``egress`` for one item (I2–I8, I12, I13).

    ``version`` is the version asked for (``VERSION``) or the version the file belongs to (``FILE``, ``VIEW``).
    """
    item = facts.item
    readable = policy.can_read_item(actor, facts.standing, item)
    if not readable:
        return NOT_FOUND
    public = item.state == ItemState.PUBLIC
    if egress in (Egress.PAGE, Egress.LISTING, Egress.NOTICE):
        return Decision(allowed=True, known=True, audited=egress == Egress.PAGE and not public)
    if egress == Egress.VERSION:
        return _version(actor, facts, version)
    if egress in (Egress.FILE, Egress.VIEW):
        if file_id is None or not policy.can_read_file(actor, facts.standing, item, file_id, facts.file_range):
            return NOT_FOUND  # a designated file out of scope looks missing (I7)
        earlier = version is not None and version != facts.current_version
        if earlier and not policy.can_read_version(actor, facts.standing, item, current=False):
            return NOT_FOUND  # a file of an earlier version of a public item is council-only (I13)
        restricted = facts.file_range is not None and file_id in facts.file_range.file_ids
        public = public and not restricted and not earlier
    if egress == Egress.VIEW:
        # View-only means viewable (I12): whoever may read the file may view it, watermarked per viewer.
        return Decision(allowed=True, known=True, copy=not public, audited=not public)
    if public:
        return Decision(allowed=True, known=True)
    assert actor is not None  # non-public content was readable, so someone is signed in
    handling = _handling_for(facts, file_id if egress == Egress.FILE else None)
    if item.provider_id != actor.user_id and NO_COPY & set(handling):
        return Decision(allowed=False, known=True, reason="view_only")  # I3, I12: never a copy
    return Decision(allowed=True, known=True, copy=True, audited=True)


def _version(actor: Principal | None, facts: ItemFacts, version: int | None) -> Decision:
    """An earlier version of a published result stays council-only (I13); the current one follows the item."""
    current = version is None or version == facts.current_version
    if not policy.can_read_version(actor, facts.standing, facts.item, current=current):
        return Decision(allowed=False, known=False, reason="earlier_version")
    return Decision(allowed=True, known=True, audited=facts.item.state != ItemState.PUBLIC or not current)


@dataclass(frozen=True)
class BallotFacts:
    """What the gate loaded about one proposal for one person."""

    item: ItemFacts
    is_voter: bool  # on the voter list fixed when the ballot opened


def decide_ballot(actor: Principal | None, facts: BallotFacts) -> Decision:
    """A proposal (title, summary, reason, scope, period) is seen by voters, readers of the item and the
    council's managers — and only with council content access: a current member with a pledge for the duty
    in force, a second factor and an operating council (C3, I4, I7). Never the content itself."""
    standing = facts.item.standing
    if actor is None or standing is None or not council_policy.can_read_content(actor, standing):
        return NOT_FOUND
    if policy.can_see_ballot(actor, standing, is_voter=facts.is_voter, item=facts.item.item):
        return Decision(allowed=True, known=True)
    return NOT_FOUND


def may_vote(actor: Principal, facts: BallotFacts) -> bool:
    """A vote needs the voter list, content access (pledge, second factor, operating council) (I4, C3)."""
    standing = facts.item.standing
    return (facts.is_voter and standing is not None and council_policy.can_read_content(actor, standing)
            and policy.can_vote(actor, standing))


def ballot_history_visible(actor: Principal | None, standing: Standing | None) -> bool:
    """The ballots of an item (reasons, reason codes, range notes) are council metadata: shown only to
    people with the council's content access, even when the item itself is public (I6, I7)."""
    return actor is not None and standing is not None and council_policy.can_read_content(actor, standing)


def readable_files(actor: Principal | None, facts: ItemFacts, file_ids: Sequence[int]) -> list[int]:
    """Return the files of ``file_ids`` the item page may name to ``actor`` (I7: out-of-range names hidden)."""
    return [f for f in file_ids
            if policy.can_read_file(actor, facts.standing, facts.item, f, facts.file_range)]

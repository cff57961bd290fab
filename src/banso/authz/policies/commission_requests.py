"""Material requests to a think tank outside the council (資料提供の求め, C6 under Art. 64; issue 13).

The one home of the rule; the pages, the API, the notices, the tasks on the home and the gate ask it.

* **Who may ask.** The council's chair or secretariat (``councils.can_manage``), for an active commission whose
  owner side they are (``programme.is_owner``): a commission and its title are not public (I7), so a council
  manager addresses only a commission they can see.
* **Who sees and answers.** Only the people of the commissioned institution named on that commission's roster
  who acknowledged the Art. 64 duty personally (``programme.is_contractor``). A colleague at the institution
  who is not named, a named person who has not acknowledged, and a person taken off the roster get 404 (I7);
  removal ends access at once. They answer while the request is open.
* **What they see.** Their request (title, body, due date) and the answer they gave themselves (text, files);
  never the council's other content, another request, or an answer a colleague gave.
* **The council's side.** The answer is sealed council content (I11, I12) read under the usual rule for
  answers (``content.can_read_answer``: the requester, the person who answered and the chair/secretariat, with
  content access; C3, I7). The recorded addressee (the commission's contact) is not a reader there by being
  recorded, and nobody answers the request on the council's side (``content.can_answer_on_council_side``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists

from banso.authz.policies import councils as council_policy
from banso.authz.policies import programme as programme_policy
from banso.authz.policies.councils import Standing
from banso.authz.policies.programme import CommissionParties
from banso.authz.principal import Principal
from banso.councils.models import MaterialRequest, RequestStatus
from banso.programme.models import Commission, CommissionRosterEntry, CommissionState


def can_address(actor: Principal, standing: Standing, parties: CommissionParties) -> bool:
    """The council's chair/secretariat address an active commission whose owner side they are (C6, Art. 64)."""
    return (council_policy.can_manage(actor, standing) and programme_policy.is_owner(actor, parties)
            and parties.state == CommissionState.ACTIVE)


def can_see_request(actor: Principal, parties: CommissionParties) -> bool:
    """The engaged roster (named, of the institution, acknowledged the duty) sees the request; others 404."""
    return programme_policy.is_contractor(actor, parties)


def can_answer(actor: Principal, parties: CommissionParties, *, status: str) -> bool:
    """An engaged roster person answers an open request."""
    return can_see_request(actor, parties) and status == RequestStatus.OPEN


def can_read_own_answer(actor: Principal, parties: CommissionParties, *, answered_by_id: int | None) -> bool:
    """The think-tank side reads only the answer they gave themselves, while still engaged."""
    return can_see_request(actor, parties) and answered_by_id is not None and answered_by_id == actor.user_id


def restrict_open_requests(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a MaterialRequest query to open requests to commissions ``actor`` is engaged in (SQL twin of
    :func:`can_answer`, for the tasks on the home)."""
    engaged = exists().where(CommissionRosterEntry.commission_id == MaterialRequest.commission_id,
                             CommissionRosterEntry.user_id == actor.user_id,
                             CommissionRosterEntry.removed_at.is_(None),
                             CommissionRosterEntry.acknowledged_at.is_not(None),
                             Commission.id == MaterialRequest.commission_id,
                             Commission.organization_id == actor.organization_id)
    return stmt.where(MaterialRequest.commission_id.is_not(None),
                      MaterialRequest.status == RequestStatus.OPEN.value, engaged)

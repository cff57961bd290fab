"""Who may read sealed council content other than information items (I7, I12, C6, F5).

Pure decisions over facts loaded by the caller, written so the lead can fold them into the one
egress gate (I12):

* **Material-request answers** (資料提供の求めへの回答, C6): the answer text and its files are read by
  the requester, the addressee (and whoever answered on their behalf) and the council's chair or
  secretariat, each with content access (membership, current pledge, second factor, operating
  council; C3, I7). Other pledged members do not get the answer on the request: it reaches them
  when it is filed as an information item, whose own gate then decides (C6, I2).
* **Commission deliverables** (成果物, F5): the commission's owner side and the commissioned
  institution, as :func:`banso.authz.policies.programme.can_see_commission` decides; everyone else 404.
* **Minutes and decisions** (議事録・協議結果, C5): council content, so every member with content
  access (:func:`banso.authz.policies.councils.can_read_content`).

Out of scope is indistinguishable from missing (404), never 403 (I7).
"""

from __future__ import annotations

from dataclasses import dataclass

from banso.authz.policies import councils as council_policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal


@dataclass(frozen=True)
class AnswerParties:
    """The people a material-request answer belongs to (C6)."""

    requester_id: int
    addressee_id: int
    answered_by_id: int | None


def can_read_answer(actor: Principal, standing: Standing, parties: AnswerParties) -> bool:
    """Return True when ``actor`` may read a material request's answer text and files (C6, I7)."""
    if not council_policy.can_read_content(actor, standing):
        return False
    if council_policy.can_manage(actor, standing):
        return True
    return actor.user_id in {parties.requester_id, parties.addressee_id, parties.answered_by_id}


def can_read_council_text(actor: Principal, standing: Standing) -> bool:
    """Return True when ``actor`` may read minutes and decisions of the council (C5, C3, I7)."""
    return council_policy.can_read_content(actor, standing)


def can_read_deliverable(*, is_owner: bool, is_contractor: bool) -> bool:
    """Return True for the commissioning side or the commissioned institution (F5)."""
    return is_owner or is_contractor

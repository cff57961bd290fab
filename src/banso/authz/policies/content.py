"""Who may read sealed council content other than information items (I7, I12, C6, F5).

Pure decisions over facts loaded by the caller, written so the lead can fold them into the one
egress gate (I12):

* **Material-request answers** (資料提供の求めへの回答, C6): the answer text and its files are read by
  the requester, the addressee (and whoever answered on their behalf) and the council's chair or
  secretariat, each with content access (membership, current pledge, second factor, operating
  council; C3, I7). Other pledged members do not get the answer on the request: it reaches them
  when it is filed as an information item, whose own gate then decides (C6, I2).
  For a request to a think-tank commission the recorded addressee (the commission's contact) is not a reader on
  the council's side, and nobody answers it there: the engaged roster answers on the commission's side (Art. 64).
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
    # Set for a request to a think-tank commission (C6 under Art. 64): its recorded addressee is the commission's
    # contact, who does not read a colleague's answer on the council's side by being recorded there.
    commission_id: int | None = None


def can_read_answer(actor: Principal, standing: Standing, parties: AnswerParties) -> bool:
    """Return True when ``actor`` may read a material request's answer text and files (C6, I7)."""
    if not council_policy.can_read_content(actor, standing):
        return False
    if council_policy.can_manage(actor, standing):
        return True
    readers = {parties.requester_id, parties.answered_by_id}
    if parties.commission_id is None:
        readers.add(parties.addressee_id)
    return actor.user_id in readers


def can_answer_on_council_side(parties: AnswerParties) -> bool:
    """A request to a commission is answered only by its engaged roster, on the commission's side (C6, Art. 64);
    the council's addressee or secretariat does not answer it on the council's side."""
    return parties.commission_id is None


def can_file_answer(actor: Principal, standing: Standing, parties: AnswerParties) -> bool:
    """Who may file an answer as an item: who may give it on the council's side, or the chair/secretariat (C6)."""
    if not can_read_answer(actor, standing, parties):
        return False
    return council_policy.can_manage(actor, standing) or (
        can_answer_on_council_side(parties) and actor.user_id in {parties.addressee_id, parties.answered_by_id})


def can_read_council_text(actor: Principal, standing: Standing) -> bool:
    """Return True when ``actor`` may read minutes and decisions of the council (C5, C3, I7)."""
    return council_policy.can_read_content(actor, standing)


def can_read_deliverable(*, is_owner: bool, is_contractor: bool) -> bool:
    """Return True for the commissioning side or the commissioned institution (F5)."""
    return is_owner or is_contractor

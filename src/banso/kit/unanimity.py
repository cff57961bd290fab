"""Unanimity (全員一致, DESIGN I4/I6): the one tally every ballot uses — designations, renewals, non-disclosure
requests and early publication (information/) and bylaws amendments (councils/, issue 13).

Decisions and outcomes are plain strings so that both domains' enums (StrEnum) compare equal to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

PENDING = "pending"
ACCEPT = "accept"
OBJECT = "object"
OPEN = "open"
ACCEPTED = "accepted"
REJECTED = "rejected"


def tally(decisions: Sequence[str], *, now: datetime, deadline: datetime) -> str:
    """Return ``"rejected"`` on one objection, ``"accepted"`` when every voter accepted, ``"rejected"`` when
    an answer is still missing at the deadline, else ``"open"`` (I4: a missing answer rejects)."""
    if any(d == OBJECT for d in decisions):
        return REJECTED
    if decisions and all(d == ACCEPT for d in decisions):
        return ACCEPTED
    if now >= deadline:
        return REJECTED
    return OPEN

"""Domain exceptions; ``banso.web.errors`` maps them to HTTP in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self


class BansoError(Exception):
    """Base of every domain error; ``message`` is safe to show to the caller.

    ``audited`` is True when the refusal already wrote its audit entry (A1): the unit of work
    (``banso.kit.unit``) then keeps that entry instead of rolling it back. The marker lives here, on
    the error, so the unit of work needs nothing from ``banso.audit`` to honour it.
    """

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.audited = False
        self.rewrite: Callable[[Any], object] | None = None

    def mark_audited(self, rewrite: Callable[[Any], object] | None = None) -> Self:
        """Record that the refusal's audit entry is written (A1), and return the error to raise.

        ``rewrite(session)`` writes that entry again: given it, the unit of work rolls back all the
        refused work and keeps the entry alone. Without it the unit commits the work as it stands
        (for refusals whose own bookkeeping must stay too, e.g. a login throttle counter).
        """
        self.audited = True
        self.rewrite = rewrite
        return self


class ValidationFailed(BansoError):
    """Input breaks a rule (4xx with the reason)."""

    status_code = 422
    code = "validation_failed"


class NotFound(BansoError):
    """The resource does not exist — or the caller may not know that it does (I7: 404, not 403)."""

    status_code = 404
    code = "not_found"


class Forbidden(BansoError):
    """The caller knows the resource exists but may not do this to it."""

    status_code = 403
    code = "forbidden"


class AuthenticationRequired(BansoError):
    """No valid session or token."""

    status_code = 401
    code = "authentication_required"


class Conflict(BansoError):
    """The request conflicts with the current state (duplicate, already done, too late)."""

    status_code = 409
    code = "conflict"


class TooManyRequests(BansoError):
    """Throttled (login lockout)."""

    status_code = 429
    code = "too_many_requests"

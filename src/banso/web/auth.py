"""What a request proved about its caller, as the toolkit sees it, and the port that works it out.

The toolkit (CSRF, page and API guards, templates) needs only the principal, the second-factor state
and the session's CSRF token. Who the caller is comes from the accounts domain: its
:func:`banso.accounts.auth.authenticate` fills an :class:`AuthState` and ``banso.app.wiring`` hands
it to the context as the :class:`Authenticator`, so ``web/`` never imports a domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fastapi import Request
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.config import Settings


class SignedInUser(Protocol):
    """The signed-in person's row as the toolkit sees it (accounts narrows it to its ``User``)."""

    @property
    def id(self) -> int: ...


class SignedInSession(Protocol):
    """The browser session's row as the toolkit sees it (accounts narrows it to its ``WebSession``)."""

    @property
    def csrf_token(self) -> str: ...


@dataclass
class AuthState:
    """What the request proved about its caller."""

    principal: Principal | None = None  # fully authenticated (second factor done, or a token)
    user: SignedInUser | None = None
    web_session: SignedInSession | None = None
    pending_mfa: bool = False  # password ok, TOTP code still due
    needs_enrolment: bool = False  # logged in, but no second factor set up yet


class Authenticator(Protocol):
    """Resolve a request's Bearer token or session cookie into an :class:`AuthState`, in ``db``."""

    def __call__(self, request: Request, db: Session, *, now: datetime, settings: Settings) -> AuthState: ...

"""Who is asking: a person, authenticated by a web session or an API token."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from banso.authz.permissions import Permission, Role, permissions_for


class AuthMethod(StrEnum):
    """How the principal proved who they are."""

    SESSION = "session"
    TOKEN = "token"


@dataclass(frozen=True)
class Principal:
    """An authenticated person with the permissions in force for this request."""

    user_id: int
    email: str
    name: str
    organization_id: int
    roles: frozenset[Role]
    method: AuthMethod
    mfa: bool  # I7: a second factor was verified for this session (or the token's owner uses one)
    token_scopes: frozenset[Permission] | None = None
    session_id: int | None = None
    token_id: int | None = None
    permissions: frozenset[Permission] = field(init=False)

    def __post_init__(self) -> None:
        granted = permissions_for(self.roles)
        if self.token_scopes is not None:
            # A token never carries more rights than its user has right now.
            granted = granted & self.token_scopes
        object.__setattr__(self, "permissions", granted)

    def has(self, permission: Permission) -> bool:
        """Return True if this principal holds ``permission``."""
        return permission in self.permissions

    @property
    def label(self) -> str:
        """Return the label written into audit entries."""
        return self.email

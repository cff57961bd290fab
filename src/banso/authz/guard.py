"""Turn policy decisions into exceptions: 404 where the caller may not know the resource exists."""

from __future__ import annotations

from banso.authz.permissions import Permission
from banso.authz.principal import Principal
from banso.kit.errors import AuthenticationRequired, Forbidden, NotFound


def require_principal(principal: Principal | None) -> Principal:
    """Return the principal or raise 401 for anonymous callers."""
    if principal is None:
        raise AuthenticationRequired("ログインが必要です / Login required")
    return principal


def require(principal: Principal | None, permission: Permission) -> Principal:
    """Require ``permission`` on a page or action whose existence is public (403 otherwise)."""
    who = require_principal(principal)
    if not who.has(permission):
        raise Forbidden("この操作の権限がありません / You may not do this")
    return who


def require_visible(allowed: bool, what: str = "resource") -> None:
    """Raise 404 unless ``allowed`` — hidden resources are indistinguishable from missing ones (I7)."""
    if not allowed:
        # one Japanese wording for every hidden thing: the Japanese half names nothing that could differ (I7)
        raise NotFound(f"見つかりません / {what} not found")


def require_mfa(principal: Principal) -> None:
    """Require a verified second factor (I7)."""
    if not principal.mfa:
        raise Forbidden("二段階認証が必要です / A second factor is required")

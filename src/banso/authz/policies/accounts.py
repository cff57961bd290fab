"""Who may see or manage people, tokens and audit entries."""

from __future__ import annotations

from banso.authz.permissions import Permission
from banso.authz.principal import Principal


def can_issue_token_for(actor: Principal, user_id: int) -> bool:
    """A person issues tokens for themselves; an admin for anyone."""
    if actor.user_id == user_id:
        return actor.has(Permission.TOKEN_ISSUE_OWN)
    return actor.has(Permission.TOKEN_MANAGE_ANY)


def can_manage_token(actor: Principal, owner_id: int) -> bool:
    """A token is managed by its owner or an admin."""
    return actor.user_id == owner_id or actor.has(Permission.TOKEN_MANAGE_ANY)


def can_view_user(actor: Principal, user_id: int) -> bool:
    """People see their own profile; officers, staff and admins see the directory."""
    return actor.user_id == user_id or actor.has(Permission.USER_READ)


def can_read_audit_entry(actor: Principal, entry_actor_id: int | None) -> bool:
    """Auditors and admins read every entry; everyone else only entries about their own actions."""
    if actor.has(Permission.AUDIT_LOG_READ):
        return True
    return entry_actor_id is not None and entry_actor_id == actor.user_id and actor.has(Permission.AUDIT_OWN_READ)


def audit_entry_filter_actor(actor: Principal) -> int | None:
    """Return the actor id to restrict audit listings to, or None for unrestricted readers."""
    return None if actor.has(Permission.AUDIT_LOG_READ) else actor.user_id


def can_export_audit(actor: Principal) -> bool:
    """Who may read the log may export what they read (issue 14): the same entries, as CSV or Excel."""
    return actor.has(Permission.AUDIT_LOG_READ) or actor.has(Permission.AUDIT_OWN_READ)


def can_filter_audit_by_people(actor: Principal) -> bool:
    """Pick lists of people and organisations are offered to whole-log readers who may see the directory."""
    return actor.has(Permission.AUDIT_LOG_READ) and actor.has(Permission.USER_READ)

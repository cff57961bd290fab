"""Audit event tags (A1): ``"<source>:<subject>:<action>"`` values, one per security-relevant event.

Other domains add their own members here (council:pledge:sign, information:item:read, ...).
"""

from __future__ import annotations

from enum import StrEnum


class AuditTag(StrEnum):
    """Every tag the log knows."""

    # accounts: sessions
    LOGIN = "accounts:session:login"
    LOGIN_FAILED = "accounts:session:login_failed"
    LOGOUT = "accounts:session:logout"
    LOGIN_LOCKED = "accounts:session:locked"
    # accounts: second factor (二要素認証)
    MFA_ENROL = "accounts:mfa:enrol"
    MFA_VERIFY = "accounts:mfa:verify"
    MFA_VERIFY_FAILED = "accounts:mfa:verify_failed"
    MFA_REPLAY_REFUSED = "accounts:mfa:replay_refused"
    MFA_RECOVERY_USED = "accounts:mfa:recovery_used"
    MFA_RESET = "accounts:mfa:reset"
    # accounts: API tokens
    TOKEN_ISSUE = "accounts:token:issue"
    TOKEN_REVOKE = "accounts:token:revoke"
    TOKEN_REJECTED = "accounts:token:rejected"
    # accounts: people and organisations
    USER_CREATE = "accounts:user:create"
    USER_UPDATE = "accounts:user:update"
    USER_DISABLE = "accounts:user:disable"
    ORG_CREATE = "accounts:org:create"
    # admin actions
    ROLE_GRANT = "admin:role:grant"
    ROLE_REVOKE = "admin:role:revoke"
    # the log itself (A2, A3)
    CHECKPOINT_SIGN = "audit:checkpoint:sign"
    LOG_EXPORT = "audit:log:export"
    PROOF_READ = "audit:proof:read"
    # system
    DEMO_SEED = "system:demo:seed"

"""Permission vocabulary and the role map (what each platform role may do).

Values are ``"<scope>:<resource>:<action>"``. Roles are platform-wide; council roles
(chair, secretariat, member, observer) are decided per council in ``policies/councils.py``.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """Everything the platform lets someone do, before resource-level policy."""

    DASHBOARD_VIEW = "platform:dashboard:view"
    PROFILE_MANAGE = "accounts:profile:manage"
    TOKEN_ISSUE_OWN = "accounts:token:issue_own"
    USER_READ = "accounts:user:read"
    USER_MANAGE = "accounts:user:manage"
    ORG_MANAGE = "accounts:org:manage"
    ROLE_MANAGE = "accounts:role:manage"
    TOKEN_MANAGE_ANY = "accounts:token:manage_any"
    AUDIT_CHECKPOINT_READ = "audit:checkpoint:read"
    AUDIT_OWN_READ = "audit:own:read"
    AUDIT_LOG_READ = "audit:log:read"
    AUDIT_LOG_EXPORT = "audit:log:export"
    AUDIT_CHECKPOINT_SIGN = "audit:checkpoint:sign"
    COUNCIL_PROPOSE = "councils:council:propose"
    COUNCIL_PARTICIPATE = "councils:council:participate"
    PROGRAMME_MANAGE = "programme:call:manage"
    PROGRAMME_PROPOSE = "programme:proposal:submit"
    PROGRAMME_REVIEW = "programme:proposal:review"
    ANALYTICS_RUN = "thinktank:analysis:run"
    ANALYTICS_READ = "thinktank:analysis:read"
    NEEDS_ENTER = "thinktank:needs:enter"  # 社会実装ニーズの入力 (T5, T8)
    EXPORT_CONTROL = "information:export:control"  # 該非判定とみなし輸出の確認 (F7)


class Role(StrEnum):
    """Platform roles a person may hold (several at once)."""

    ADMIN = "admin"  # システム管理者
    OFFICER = "officer"  # 所管省庁の担当官
    NEEDS_OFFICER = "needs_officer"  # ニーズ省庁の担当官
    AGENCY_STAFF = "agency_staff"  # 資金配分機関 (JST, NEDO)
    RESEARCHER = "researcher"  # 研究者
    INDUSTRY = "industry"  # 企業・スタートアップ
    ANALYST = "analyst"  # シンクタンク
    AUDITOR = "auditor"  # 監査担当
    REVIEWER = "reviewer"  # 審査委員
    EXPORT_OFFICER = "export_officer"  # 輸出管理責任者 (F7)


_EVERYONE = frozenset(
    {
        Permission.DASHBOARD_VIEW,
        Permission.PROFILE_MANAGE,
        Permission.TOKEN_ISSUE_OWN,
        Permission.AUDIT_CHECKPOINT_READ,
        Permission.AUDIT_OWN_READ,
        Permission.COUNCIL_PARTICIPATE,
        Permission.ANALYTICS_READ,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _EVERYONE
    | {
        Permission.USER_READ,
        Permission.USER_MANAGE,
        Permission.ORG_MANAGE,
        Permission.ROLE_MANAGE,
        Permission.TOKEN_MANAGE_ANY,
        Permission.AUDIT_LOG_READ,
        Permission.AUDIT_LOG_EXPORT,
        Permission.AUDIT_CHECKPOINT_SIGN,
    },
    Role.OFFICER: _EVERYONE | {Permission.COUNCIL_PROPOSE, Permission.USER_READ},
    Role.NEEDS_OFFICER: _EVERYONE | {Permission.USER_READ, Permission.NEEDS_ENTER},
    Role.AGENCY_STAFF: _EVERYONE | {Permission.PROGRAMME_MANAGE, Permission.USER_READ},
    Role.RESEARCHER: _EVERYONE | {Permission.PROGRAMME_PROPOSE},
    Role.INDUSTRY: _EVERYONE | {Permission.PROGRAMME_PROPOSE},
    Role.ANALYST: _EVERYONE | {Permission.ANALYTICS_RUN},
    Role.AUDITOR: _EVERYONE | {Permission.AUDIT_LOG_READ, Permission.AUDIT_LOG_EXPORT, Permission.USER_READ},
    Role.REVIEWER: _EVERYONE | {Permission.PROGRAMME_REVIEW},
    Role.EXPORT_OFFICER: _EVERYONE | {Permission.EXPORT_CONTROL, Permission.USER_READ},
}


def permissions_for(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    """Return the union of the permissions of ``roles``."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def parse_permissions(values: list[str] | tuple[str, ...]) -> frozenset[Permission]:
    """Parse permission strings, raising ValueError naming the first unknown one."""
    result: set[Permission] = set()
    for value in values:
        try:
            result.add(Permission(value))
        except ValueError:
            raise ValueError(f"権限 {value!r} は存在しません / unknown permission {value!r}") from None
    return frozenset(result)

"""Who may see and do what on the think tank's pages and API (T5, T6, T8) — the only place that decides it.

* **Indicators** (technology × country tables, Japan's position, charts): every signed-in person
  with ``ANALYTICS_READ`` (the figures come from published bibliometric data).
* **Rankings** (優先順位, TOPSIS), **needs reasons** (ニーズの理由), saved analyses and reports, which
  carry both: only the roles this policy names — think-tank analysts (シンクタンク), needs-ministry
  officers (ニーズ省庁), organising-ministry officers (所管省庁) and the administrator. A researcher,
  a company, agency staff, a reviewer or an auditor does not see them (T8).
* **Needs** (社会実装ニーズ): entered by needs-ministry officers (``NEEDS_ENTER``), per technology, with
  a reason; each entry is a new version.
* **Recompute and save** a ranking with other weights: analysts (``ANALYTICS_RUN``).
* **File a report** into a council: analysts; the council's own policy then decides membership,
  pledge and council state (I7) as for any item filed there.

A token narrowed to other scopes carries none of this: every flag needs ``ANALYTICS_READ`` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from banso.authz.permissions import Permission, Role
from banso.authz.principal import Principal

RANKING_ROLES: frozenset[Role] = frozenset({Role.ANALYST, Role.NEEDS_OFFICER, Role.OFFICER, Role.ADMIN})
"""The roles that see rankings, needs reasons, saved analyses and reports (T8)."""


@dataclass(frozen=True)
class ThinktankAccess:
    """What one person may do on the think-tank pages and API; pages and endpoints show exactly this."""

    read_indicators: bool
    read_rankings: bool
    read_needs_reasons: bool
    enter_needs: bool
    run_analyses: bool
    export_reports: bool
    file_reports: bool


def can_read_indicators(actor: Principal) -> bool:
    """Every signed-in person with ANALYTICS_READ reads the indicator tables and charts."""
    return actor.has(Permission.ANALYTICS_READ)


def can_read_rankings(actor: Principal) -> bool:
    """Only the roles in :data:`RANKING_ROLES` see rankings (T8)."""
    return can_read_indicators(actor) and bool(actor.roles & RANKING_ROLES)


def access_for(actor: Principal) -> ThinktankAccess:
    """Return the think-tank capabilities of ``actor`` (the one decision pages and the API use)."""
    rankings = can_read_rankings(actor)
    run = rankings and actor.has(Permission.ANALYTICS_RUN)
    return ThinktankAccess(
        read_indicators=can_read_indicators(actor),
        read_rankings=rankings,
        read_needs_reasons=rankings,
        enter_needs=rankings and actor.has(Permission.NEEDS_ENTER),
        run_analyses=run,
        export_reports=rankings,
        file_reports=run,
    )

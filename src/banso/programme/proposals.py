"""Building blocks of a proposal as agencies take it (F6): its team and its budget sheet, read and written.

The orchestration (draft, confirmation, submission, edits, audit) is ``programme.service``; this module
checks a team and a sheet against the call and writes or reads them, so a draft, a submission and an
edit build them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.authz.principal import Principal
from banso.kit.errors import ValidationFailed
from banso.kit.text import clean_text
from banso.programme import budget, rules
from banso.programme import repository as repo
from banso.programme.models import BudgetItem, BudgetLine, Call, Proposal, ProposalMember


@dataclass(frozen=True)
class TeamMemberInput:
    """A team member: a platform user, or a name and organisation; researchers give an e-Rad number and effort."""

    name: str | None = None
    user_id: int | None = None
    organization_id: int | None = None
    role: str = "member"
    researcher_number: str | None = None
    effort_percent: int | None = None


def build_team(session: Session, actor: Principal, team: Sequence[TeamMemberInput], *,
               lead_effort: int | None = None) -> list[ProposalMember]:
    """Return the team rows (the proposer first, as 研究代表者), every member checked; nothing is written."""
    proposer = accounts_repo.user_by_id(session, actor.user_id)
    assert proposer is not None
    members = [ProposalMember(user_id=proposer.id, organization_id=proposer.organization_id, name=proposer.name_ja,
                              role="lead", researcher_number=proposer.researcher_number,
                              effort_percent=budget.check_effort(lead_effort, where="lead_effort"))]
    seen_users: set[int] = {actor.user_id}
    for i, m in enumerate(team):
        where = f"team[{i}]"
        role = budget.check_role(m.role, where=where)
        number = budget.check_researcher_number(m.researcher_number, where=where)
        effort = budget.check_effort(m.effort_percent, where=where)
        if m.user_id is not None:
            user = accounts_repo.user_by_id(session, m.user_id)
            if user is None or not user.is_active:
                raise ValidationFailed(f"{where}: 利用者が見つかりません（{m.user_id}） / {where}: user {m.user_id} does not exist", field="team")
            if user.id in seen_users:
                raise ValidationFailed(f"{where}: {user.name_ja} が重複しています / {where}: {user.name_ja} is listed twice", field="team")
            seen_users.add(user.id)
            members.append(ProposalMember(user_id=user.id, organization_id=user.organization_id, name=user.name_ja,
                                          role=role, researcher_number=number or user.researcher_number,
                                          effort_percent=effort))
        else:
            name = clean_text(m.name, f"{where}.name", max_length=200, line=True)
            if m.organization_id is not None and accounts_repo.org_by_id(session, m.organization_id) is None:
                raise ValidationFailed(f"{where}: 機関が見つかりません（{m.organization_id}） / {where}: organisation {m.organization_id} does not exist",
                                       field="team")
            members.append(ProposalMember(user_id=None, organization_id=m.organization_id, name=name, role=role,
                                          researcher_number=number, effort_percent=effort))
    return members


def sheet_for(call: Call, *, sheet: Mapping[object, Mapping[object, object]] | None,
              plan: Mapping[object, object] | None) -> budget.BudgetSheet:
    """Return the budget from a sheet in 千円 (``sheet``) or a one-figure-per-year plan in yen (``plan``)."""
    if (sheet is None) == (plan is None):
        raise ValidationFailed("経費計画を budget_sheet（千円）か budget（円）のどちらか一方で指定してください / "
                               "give the budget as either budget_sheet (千円) or budget (yen)", field="budget")
    if sheet is not None:
        return budget.parse_sheet(sheet, rate_percent=call.indirect_rate_percent)
    assert plan is not None
    return budget.sheet_of_plan(rules.parse_budget_plan(plan))


def check_sheet(call: Call, sheet: budget.BudgetSheet) -> int:
    """Check the per-year totals against the call's period and cap (``rules.check_budget_plan``); return the total."""
    return rules.check_budget_plan(sheet.plan(), first_fiscal_year=call.first_fiscal_year,
                                   period_years=call.period_years, cap_yen=call.cap_yen)


def write_plan(session: Session, proposal: Proposal, sheet: budget.BudgetSheet,
               members: Sequence[ProposalMember]) -> None:
    """Write the sheet's cells, the yearly totals and the team of a flushed proposal (replacing earlier ones)."""
    repo.clear_plan(session, proposal.id)
    session.flush()
    for fy, category, amount in sheet.cells():
        session.add(BudgetItem(proposal_id=proposal.id, fiscal_year=fy, category=category.value, amount=amount))
    for fy, amount in sorted(sheet.plan().items()):
        session.add(BudgetLine(proposal_id=proposal.id, fiscal_year=fy, amount=amount))
    for member in members:
        member.proposal_id = proposal.id
        session.add(member)


def stored_sheet(session: Session, proposal: Proposal, call: Call) -> budget.BudgetSheet:
    """Return a proposal's stored budget sheet (its indirect costs as stored)."""
    cells = [(i.fiscal_year, i.category, i.amount) for i in repo.budget_items(session, proposal.id)]
    return budget.sheet_of_cells(cells, rate_percent=call.indirect_rate_percent)


def team_of(session: Session, proposal: Proposal) -> list[TeamMemberInput]:
    """Return a proposal's team (without its 研究代表者) as input, for an edit that keeps it."""
    return [TeamMemberInput(name=m.name, user_id=m.user_id, organization_id=m.organization_id, role=m.role,
                            researcher_number=m.researcher_number, effort_percent=m.effort_percent)
            for m in repo.members(session, proposal.id) if m.role != "lead"]

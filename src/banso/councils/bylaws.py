"""Bylaws by agreement (規約の改正, issue 13; DESIGN C3, I4): amendments proposed by the chair or secretariat
and decided by every member unanimously before a deadline, with reminders.

The tally is the one every ballot uses (:func:`banso.kit.unanimity.tally`: one objection, or a missing answer
at the deadline, rejects). Voters are fixed when the proposal opens: every current member but observers; a
voter who leaves no longer counts. Only an accepted proposal makes a new bylaws version, and whether it
changes the duty (so everyone signs the pledge again, C3) is decided from the diff (``articles.duty_changed``),
never declared. Before establishment the bylaws cannot be amended (the founders consent to the text they
were shown; as before issue 13). Every step is audited in the caller's transaction (A1); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.policies import councils as policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal
from banso.councils import articles, notices, rules, service
from banso.councils import repository as repo
from banso.councils.models import BylawsProposal, BylawsVersion, BylawsVote, Council, CouncilRole
from banso.kit import unanimity
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text

_audit = audit.record_for
_refuse = audit.refuse

DEFAULT_VOTE_DAYS = 14
MIN_VOTE_WINDOW = timedelta(hours=1)
MAX_VOTE_WINDOW = timedelta(days=90)


def _subject(council: Council) -> str:
    return f"council:{council.id}"


def vote_deadline(*, now: datetime, given: datetime | None) -> datetime:
    """Return the voting deadline: the given one (1 hour to 90 days ahead) or 14 days from now."""
    deadline = given or now + timedelta(days=DEFAULT_VOTE_DAYS)
    if deadline.tzinfo is None:
        raise ValidationFailed(rules.time_zone_message("deadline"), field="deadline")
    if not now + MIN_VOTE_WINDOW <= deadline <= now + MAX_VOTE_WINDOW:
        raise ValidationFailed("投票期限は1時間後から90日後までの間で指定してください / the voting deadline must be "
                               "between 1 hour and 90 days ahead", field="deadline")
    return deadline


def _voters(session: Session, council: Council) -> list[int]:
    # I4: every participant decides; observers take part without a vote.
    return [m.user_id for m in repo.current_members(session, council.id) if m.role != CouncilRole.OBSERVER]


def _in_force(session: Session, council: Council) -> BylawsVersion:
    row = repo.bylaws(session, council.id, council.bylaws_version)
    assert row is not None
    return row


def propose_amendment(session: Session, *, council_id: int, actor: Principal, now: datetime,
                      articles_in: Sequence[articles.ArticleInput], parameters: Mapping[str, int | None],
                      summary: str, deadline: datetime | None = None) -> BylawsProposal:
    """Propose an amendment (new articles and parameters with a summary); every member votes on it (I4)."""
    council, standing = service._visible(session, council_id, actor)
    if not policy.can_amend_bylaws(actor, standing):
        raise Forbidden("議長又は事務局のみが規約の改正を提案できます（二段階認証が必要） / Only the chair or secretariat, "
                        "signed in with a second factor, may propose a bylaws amendment")
    if council.state not in rules.OPERATING_STATES:
        raise Conflict("設立前又は終了した協議会の規約は改正できません / the bylaws can be amended only while the "
                       "council is established or active", field="state")
    if repo.open_bylaws_proposal(session, council.id) is not None:
        raise Conflict("投票中の改正案があります。決定又は取下げの後に提案してください / an amendment is already being "
                       "voted on; propose after it is decided or withdrawn", field="articles")
    current = _in_force(session, council)
    old, old_params = service.version_articles(current), service.version_parameters(current)
    checked = articles.checked(articles_in)
    params = articles.parameters(parameters, old_params)
    # A number written out in a known phrase equal to the old or the new value follows the parameter from now on
    # (texts from before 0020 wrote them out; a proposer may too), so the article and the parameter agree.
    new = articles.with_placeholders(articles.with_placeholders(checked, old_params), params)
    text = clean_text(summary, "summary", max_length=500, line=True)
    if all(c.change == "same" for c in articles.compare(old, old_params, new, params)) and params == old_params:
        raise ValidationFailed("改正の内容がありません / the amendment changes nothing", field="articles")
    proposal = BylawsProposal(
        council_id=council.id, base_version=current.version, articles=articles.to_json(new), parameters=params,
        summary=text, changes_duty=articles.duty_changed(old, old_params, new, params), state=unanimity.OPEN,
        deadline=vote_deadline(now=now, given=deadline), proposed_by_id=actor.user_id, created_at=now,
        decided_at=None, last_reminded_at=None, result_version=None)
    session.add(proposal)
    session.flush()
    voters = _voters(session, council)
    for user_id in voters:
        user = accounts_repo.user_by_id(session, user_id)
        assert user is not None
        mine = user_id == actor.user_id  # proposing counts as accepting, as with a designation
        session.add(BylawsVote(proposal_id=proposal.id, user_id=user_id, organization_id=user.organization_id,
                               decision=unanimity.ACCEPT if mine else unanimity.PENDING, reason=None,
                               decided_at=now if mine else None))
    session.flush()
    _audit(session, AuditTag.COUNCIL_BYLAWS_PROPOSE, now=now, actor=actor, subject=_subject(council),
           data={"proposal_id": proposal.id, "base_version": current.version, "summary": text,
                 "changes_duty": proposal.changes_duty, "deadline": proposal.deadline.isoformat(),
                 "voters": len(voters), "parameters": params,
                 "changed_articles": [c.key for c in articles.compare(old, old_params, new, params)
                                      if c.change != "same"]})
    notices.bylaws_vote_requested(session, council, proposal_id=proposal.id, summary=text,
                                  user_ids=[u for u in voters if u != actor.user_id], deadline=proposal.deadline,
                                  now=now)
    _settle(session, council, proposal, now=now, actor=actor)
    return proposal


def vote(session: Session, *, council_id: int, proposal_id: int, actor: Principal, now: datetime, decision: str,
         reason: str | None = None) -> BylawsProposal:
    """Cast a member's vote on an amendment; refusals (not a voter, no second factor, closed, twice) are audited."""
    council, standing = service._visible(session, council_id, actor)
    require_visible(policy.can_see_bylaws_proposals(actor, standing), "bylaws proposal")
    proposal = repo.bylaws_proposal(session, council.id, proposal_id, lock=True)
    if proposal is None:
        raise NotFound("改正案が見つかりません / bylaws proposal not found")
    if decision not in (unanimity.ACCEPT, unanimity.OBJECT):
        raise ValidationFailed("decision は「賛成」か「異議」から選んでください / decision must be accept or object",
                               field="decision")
    row = repo.bylaws_vote_of(session, proposal.id, actor.user_id)
    subject, data = _subject(council), {"proposal_id": proposal.id}
    try:
        if row is None:
            raise Forbidden("この改正案の投票者ではありません（投票者は提案時の参加者です） / you are not a voter on this "
                            "proposal (voters are the members when it was proposed)")
        if not policy.can_vote_bylaws(actor, standing):
            raise Forbidden("投票には二段階認証が必要です / voting needs a second factor and a current membership")
        if proposal.state != unanimity.OPEN or now >= proposal.deadline:
            raise Conflict("この改正案の投票は終了しています / voting on this proposal has closed", field="decision")
        if row.decision != unanimity.PENDING:
            raise Conflict("既に投票済みです / you have already voted on this proposal", field="decision")
    except BansoError as exc:
        _refuse(session, exc, AuditTag.COUNCIL_BYLAWS_VOTE_REFUSED, now=now, actor=actor, subject=subject, data=data)
    assert row is not None
    why = clean_text(reason, "reason", max_length=2000, required=False) or None
    if decision == unanimity.OBJECT and why is None:
        raise ValidationFailed("反対には理由が必要です / an objection needs a reason", field="reason")
    row.decision, row.reason, row.decided_at = decision, why, now
    session.flush()
    _audit(session, AuditTag.COUNCIL_BYLAWS_VOTE, now=now, actor=actor, subject=subject,
           data={**data, "decision": decision})
    _settle(session, council, proposal, now=now, actor=actor)
    return proposal


def withdraw(session: Session, *, council_id: int, proposal_id: int, actor: Principal,
             now: datetime) -> BylawsProposal:
    """Withdraw an open amendment (chair or secretariat); nothing changes."""
    council, standing = service._visible(session, council_id, actor)
    if not policy.can_amend_bylaws(actor, standing):
        raise Forbidden("議長又は事務局のみが改正案を取り下げられます / Only the chair or secretariat may withdraw it")
    proposal = repo.bylaws_proposal(session, council.id, proposal_id, lock=True)
    if proposal is None:
        raise NotFound("改正案が見つかりません / bylaws proposal not found")
    if proposal.state != unanimity.OPEN:
        raise Conflict("投票中の改正案のみ取り下げられます / only an open proposal can be withdrawn", field="state")
    _close(session, council, proposal, state="withdrawn", now=now, actor=actor)
    return proposal


def _close(session: Session, council: Council, proposal: BylawsProposal, *, state: str, now: datetime,
           actor: Principal | None) -> None:
    proposal.state, proposal.decided_at = state, now
    session.flush()
    _audit(session, AuditTag.COUNCIL_BYLAWS_WITHDRAW, now=now, actor=actor, subject=_subject(council),
           data={"proposal_id": proposal.id, "council_state": council.state})


def _live_decisions(session: Session, council: Council, proposal: BylawsProposal) -> list[str]:
    # A voter who has left the council no longer takes part (C3: leaving ends participation).
    current = set(_voters(session, council))
    return [v.decision for v in repo.bylaws_votes(session, proposal.id) if v.user_id in current]


def _settle(session: Session, council: Council, proposal: BylawsProposal, *, now: datetime,
            actor: Principal | None) -> None:
    """Apply the outcome once unanimity or rejection is reached (I4): only acceptance makes a new version."""
    if proposal.state != unanimity.OPEN:
        return
    outcome = unanimity.tally(_live_decisions(session, council, proposal), now=now, deadline=proposal.deadline)
    if outcome == unanimity.OPEN:
        return
    proposal.state, proposal.decided_at = outcome, now
    members = [m.user_id for m in repo.current_members(session, council.id)]
    if outcome == unanimity.ACCEPTED:
        row = _enact(session, council, proposal, now=now, actor=actor)
        notices.bylaws_decided(session, council, proposal_id=proposal.id, accepted=True, version=row.version,
                               resign=row.changes_duty, user_ids=members, now=now)
        return
    objections = sum(1 for v in repo.bylaws_votes(session, proposal.id) if v.decision == unanimity.OBJECT)
    _audit(session, AuditTag.COUNCIL_BYLAWS_REJECT, now=now, actor=actor, subject=_subject(council),
           data={"proposal_id": proposal.id, "objections": objections,
                 "why": "objection" if objections else "deadline"})
    notices.bylaws_decided(session, council, proposal_id=proposal.id, accepted=False, version=None, resign=False,
                           user_ids=members, now=now)


def _enact(session: Session, council: Council, proposal: BylawsProposal, *, now: datetime,
           actor: Principal | None) -> BylawsVersion:
    """Record the accepted amendment as the version in force; a duty change starts a new duty version (C3)."""
    current = _in_force(session, council)
    old, old_params = service.version_articles(current), service.version_parameters(current)
    params = articles.parameters(proposal.parameters, old_params)
    new = articles.with_placeholders(articles.from_json(proposal.articles), params)  # proposals from before 0031
    # Decided again against the version in force now (the proposal's base, as only one is open at a time).
    changes_duty = articles.duty_changed(old, old_params, new, params)
    version = council.bylaws_version + 1
    duty = rules.next_duty_version(current_duty_version=council.duty_version, new_version=version,
                                   changes_duty=changes_duty)
    text = articles.render(council_title=council.title_ja, articles=new, params=params)
    row = BylawsVersion(council_id=council.id, version=version, text=text, articles=articles.to_json(new),
                        changes_duty=changes_duty, duty_version=duty, summary=proposal.summary,
                        created_by_id=proposal.proposed_by_id, created_at=now, proposal_id=proposal.id, **params)
    session.add(row)
    council.bylaws_version, council.duty_version, council.updated_at = version, duty, now
    proposal.result_version = version
    session.flush()
    _audit(session, AuditTag.COUNCIL_BYLAWS_AMEND, now=now, actor=actor, subject=_subject(council),
           data={"version": version, "proposal_id": proposal.id, "changes_duty": changes_duty, "duty_version": duty,
                 "duty_article": articles.duty_number(new), "summary": proposal.summary, "parameters": params,
                 "sha256": rules.sha256_text(text)})
    return row


@dataclass(frozen=True)
class DueReport:
    """What one run of the bylaws job did."""

    settled: int = 0
    reminded: int = 0
    withdrawn: int = 0


def run_due_bylaws(session: Session, *, now: datetime) -> DueReport:
    """Job: settle proposals at their deadline (a missing answer rejects, I4), remind pending voters 7 days and
    1 day before it, and withdraw proposals of councils that stopped operating."""
    settled = reminded = withdrawn = 0
    for proposal in repo.open_bylaws_proposals(session):
        council = repo.council_by_id(session, proposal.council_id)
        assert council is not None
        if council.state not in rules.OPERATING_STATES:
            _close(session, council, proposal, state="withdrawn", now=now, actor=None)
            withdrawn += 1
            continue
        _settle(session, council, proposal, now=now, actor=None)
        if proposal.state != unanimity.OPEN:
            settled += 1
            continue
        if not rules.reminder_due(deadline=proposal.deadline, last_reminded_at=proposal.last_reminded_at, now=now):
            continue
        proposal.last_reminded_at = now
        current = set(_voters(session, council))
        pending = [v.user_id for v in repo.bylaws_votes(session, proposal.id)
                   if v.decision == unanimity.PENDING and v.user_id in current]
        if pending:
            _audit(session, AuditTag.COUNCIL_BYLAWS_REMIND, now=now, actor=None, subject=_subject(council),
                   data={"proposal_id": proposal.id, "user_ids": pending})
            notices.bylaws_vote_requested(session, council, proposal_id=proposal.id, summary=proposal.summary,
                                          user_ids=pending, deadline=proposal.deadline, now=now, reminder=True)
            reminded += len(pending)
    session.flush()
    return DueReport(settled=settled, reminded=reminded, withdrawn=withdrawn)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class ParameterChange:
    """A bylaws parameter before and after an amendment."""

    parameter: articles.Parameter
    old: int
    new: int


@dataclass(frozen=True)
class ProposalView:
    """A proposal as its page and the API show it: the diff article by article, the votes, what the viewer may do."""

    council: Council
    standing: Standing
    proposal: BylawsProposal
    changes: list[articles.ArticleChange]
    parameters: list[ParameterChange]
    votes: list[tuple[BylawsVote, User]]
    mine: BylawsVote | None
    may_vote: bool  # the viewer's answer is pending, voting is open and they may vote now
    needs_second_factor: bool  # pending, open, but signed in without a second factor
    may_withdraw: bool


def list_proposals(session: Session, *, council_id: int, actor: Principal) -> list[BylawsProposal]:
    """Return the council's amendment proposals, newest first (current members)."""
    council, standing = service._visible(session, council_id, actor)
    require_visible(policy.can_see_bylaws_proposals(actor, standing), "bylaws proposals")
    return repo.bylaws_proposals(session, council.id)


def proposals_shown(session: Session, *, council: Council, actor: Principal,
                    standing: Standing) -> list[BylawsProposal]:
    """Return the proposals a bylaws page lists for ``actor`` (none for an invitee: members only)."""
    if not policy.can_see_bylaws_proposals(actor, standing):
        return []
    return repo.bylaws_proposals(session, council.id)


def get_proposal(session: Session, *, council_id: int, proposal_id: int, actor: Principal,
                 now: datetime) -> ProposalView:
    """Return one proposal with its diff against the version it amends, its votes and the viewer's options."""
    council, standing = service._visible(session, council_id, actor)
    require_visible(policy.can_see_bylaws_proposals(actor, standing), "bylaws proposal")
    proposal = repo.bylaws_proposal(session, council.id, proposal_id)
    if proposal is None:
        raise NotFound("改正案が見つかりません / bylaws proposal not found")
    base = repo.bylaws(session, council.id, proposal.base_version)
    assert base is not None
    old, old_params = service.version_articles(base), service.version_parameters(base)
    params = articles.parameters(proposal.parameters, old_params)
    new = articles.with_placeholders(articles.from_json(proposal.articles), params)  # proposals from before 0031
    votes = repo.bylaws_votes(session, proposal.id)
    people = accounts_repo.users_by_id(session, {v.user_id for v in votes})
    mine = next((v for v in votes if v.user_id == actor.user_id), None)
    pending = (mine is not None and mine.decision == unanimity.PENDING and proposal.state == unanimity.OPEN
               and now < proposal.deadline and standing.role not in (None, CouncilRole.OBSERVER))
    return ProposalView(
        council=council, standing=standing, proposal=proposal, changes=articles.compare(old, old_params, new, params),
        parameters=[ParameterChange(p, old_params[p.column], params[p.column]) for p in articles.PARAMETERS
                    if old_params[p.column] != params[p.column]],
        votes=[(v, people[v.user_id]) for v in votes if v.user_id in people], mine=mine,
        may_vote=pending and policy.can_vote_bylaws(actor, standing),
        needs_second_factor=pending and not actor.mfa,
        may_withdraw=proposal.state == unanimity.OPEN and policy.can_amend_bylaws(actor, standing))


@dataclass(frozen=True)
class AmendForm:
    """What the amendment form starts from: the version in force, its articles and parameters."""

    council: Council
    bylaws: BylawsVersion
    articles: list[articles.Article]
    parameters: dict[str, int]
    open_proposal: BylawsProposal | None


def amend_form(session: Session, *, council_id: int, actor: Principal) -> AmendForm:
    """Return the starting point of an amendment (chair or secretariat only)."""
    council, standing = service._visible(session, council_id, actor)
    if not policy.can_amend_bylaws(actor, standing):
        raise Forbidden("議長又は事務局のみが規約の改正を提案できます（二段階認証が必要） / Only the chair or secretariat, "
                        "signed in with a second factor, may propose a bylaws amendment")
    current = _in_force(session, council)
    return AmendForm(council=council, bylaws=current, articles=service.version_articles(current),
                     parameters=service.version_parameters(current),
                     open_proposal=repo.open_bylaws_proposal(session, council.id))

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
    # councils (協議会, C1–C6)
    COUNCIL_PROPOSE = "council:council:propose"
    COUNCIL_ESTABLISH = "council:council:establish"
    COUNCIL_LAPSE = "council:council:lapse"
    COUNCIL_ACTIVATE = "council:council:activate"
    COUNCIL_DISSOLVE = "council:council:dissolve"
    COUNCIL_BYLAWS_AMEND = "council:bylaws:amend"
    COUNCIL_CONSENT_GIVE = "council:consent:give"
    COUNCIL_CONSENT_DECLINE = "council:consent:decline"
    COUNCIL_CONSENT_REFUSED = "council:consent:refused"
    COUNCIL_CONSENT_EXPIRE = "council:consent:expire"
    COUNCIL_CONSENT_REMIND = "council:consent:remind"
    COUNCIL_MEMBER_INVITE = "council:member:invite"
    COUNCIL_MEMBER_JOIN = "council:member:join"
    COUNCIL_MEMBER_LEAVE = "council:member:leave"
    COUNCIL_MEMBER_ROLE = "council:member:role"
    COUNCIL_PLEDGE_SIGN = "council:pledge:sign"
    COUNCIL_PLEDGE_REFUSED = "council:pledge:refused"
    COUNCIL_PLEDGE_DOWNLOAD = "council:pledge:download"
    COUNCIL_MEETING_SCHEDULE = "council:meeting:schedule"
    COUNCIL_MEETING_READ = "council:meeting:read"
    COUNCIL_AGENDA_ADD = "council:agenda:add"
    COUNCIL_ATTENDANCE_RECORD = "council:attendance:record"
    COUNCIL_MINUTES_DRAFT = "council:minutes:draft"
    COUNCIL_MINUTES_APPROVE = "council:minutes:approve"
    COUNCIL_DECISION_RECORD = "council:decision:record"
    COUNCIL_ACTION_CREATE = "council:action:create"
    COUNCIL_ACTION_REFUSED = "council:action:refused"
    COUNCIL_ACTION_COMPLETE = "council:action:complete"
    COUNCIL_ACTION_CANCEL = "council:action:cancel"
    COUNCIL_ACTION_REMIND = "council:action:remind"
    COUNCIL_REQUEST_CREATE = "council:request:create"
    COUNCIL_REQUEST_ANSWER = "council:request:answer"
    COUNCIL_REQUEST_CLOSE = "council:request:close"
    COUNCIL_REQUEST_READ = "council:request:read"
    COUNCIL_FILE_DOWNLOAD = "council:file:download"
    # programme (指針・資金支援, F1–F5, C2)
    PROGRAMME_REGISTRY_IMPORT = "programme:registry:import"
    PROGRAMME_AGENCY_CREATE = "programme:agency:create"
    PROGRAMME_LEDGER_TRANCHE = "programme:ledger:tranche"
    PROGRAMME_LEDGER_COMMITMENT = "programme:ledger:commitment"
    PROGRAMME_LEDGER_RELEASE = "programme:ledger:release"
    PROGRAMME_LEDGER_DISBURSEMENT = "programme:ledger:disbursement"
    PROGRAMME_LEDGER_RETURN = "programme:ledger:return"
    PROGRAMME_LEDGER_EXPORT = "programme:ledger:export"
    PROGRAMME_CALL_CREATE = "programme:call:create"
    PROGRAMME_CALL_PUBLISH = "programme:call:publish"
    PROGRAMME_PROPOSAL_SUBMIT = "programme:proposal:submit"
    PROGRAMME_PROPOSAL_WITHDRAW = "programme:proposal:withdraw"
    PROGRAMME_PROPOSAL_READ = "programme:proposal:read"
    PROGRAMME_PANEL_ADD = "programme:panel:add"
    PROGRAMME_CONFLICT_DECLARE = "programme:conflict:declare"
    PROGRAMME_PROPOSAL_SCORE = "programme:proposal:score"
    PROGRAMME_DECISION_RECORD = "programme:decision:record"
    PROGRAMME_PROJECT_CREATE = "programme:project:create"
    PROGRAMME_PROJECT_COUNCIL_OPEN = "programme:project:council_open"
    PROGRAMME_MILESTONE_ADD = "programme:milestone:add"
    PROGRAMME_MILESTONE_UPDATE = "programme:milestone:update"
    PROGRAMME_DECLARATION_REVIEW = "programme:declaration:review"

"""Audit event tags (A1): ``"<source>:<subject>:<action>"`` values, one per security-relevant event.

Other domains add their own members here (council:pledge:sign, information:item:read, ...) and a line
in :data:`LABELS` (English msgid; the Japanese is in ``locale/ja``): a tag without a label fails
``tests/audit/test_labels.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class AuditTag(StrEnum):
    """Every tag the log knows."""

    # accounts: sessions
    LOGIN = "accounts:session:login"
    LOGIN_FAILED = "accounts:session:login_failed"
    LOGOUT = "accounts:session:logout"
    LOGIN_LOCKED = "accounts:session:locked"
    # accounts: single sign-on by OpenID Connect (O3)
    LOGIN_SSO = "accounts:login:sso"
    LOGIN_SSO_REFUSED = "accounts:login:sso_refused"
    IDENTITY_LINK = "accounts:identity:link"
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
    # keys (I11, O2): a council's or commission's key destroyed for good; a restore honours it
    KEYS_COUNCIL_DESTROYED = "keys:council:destroyed"
    KEYS_COMMISSION_DESTROYED = "keys:commission:destroyed"
    KEYS_PROPOSAL_DESTROYED = "keys:proposal:destroyed"  # a proposal's key (research-plan documents, F6)
    # system
    DEMO_SEED = "system:demo:seed"
    # the sealed store's keys (I11, O2): rotation, retired versions, keys moved into an HSM
    SEALED_KEY_ROTATE = "sealed:key:rotate"
    SEALED_KEY_RETIRE = "sealed:key:retire"
    SEALED_KEY_MIGRATE = "sealed:key:migrate"
    # councils (協議会, C1–C6)
    COUNCIL_PROPOSE = "council:council:propose"
    COUNCIL_ESTABLISH = "council:council:establish"
    COUNCIL_LAPSE = "council:council:lapse"
    COUNCIL_ACTIVATE = "council:council:activate"
    COUNCIL_DISSOLVE = "council:council:dissolve"
    COUNCIL_BYLAWS_AMEND = "council:bylaws:amend"  # an accepted amendment takes effect (issue 13)
    COUNCIL_BYLAWS_PROPOSE = "council:bylaws:propose"
    COUNCIL_BYLAWS_VOTE = "council:bylaws:vote"
    COUNCIL_BYLAWS_VOTE_REFUSED = "council:bylaws:vote_refused"
    COUNCIL_BYLAWS_REJECT = "council:bylaws:reject"
    COUNCIL_BYLAWS_WITHDRAW = "council:bylaws:withdraw"
    COUNCIL_BYLAWS_REMIND = "council:bylaws:remind"
    COUNCIL_CONSENT_GIVE = "council:consent:give"
    COUNCIL_CONSENT_DECLINE = "council:consent:decline"
    COUNCIL_CONSENT_REFUSED = "council:consent:refused"
    COUNCIL_CONSENT_EXPIRE = "council:consent:expire"
    COUNCIL_CONSENT_REMIND = "council:consent:remind"
    COUNCIL_MEMBER_INVITE = "council:member:invite"
    COUNCIL_MEMBER_JOIN = "council:member:join"
    COUNCIL_MEMBER_LEAVE = "council:member:leave"
    COUNCIL_MEMBER_ROLE = "council:member:role"
    COUNCIL_MEMBER_REMOVE = "council:member:remove"  # issue 13: removed by the secretariat with a reason
    COUNCIL_PLEDGE_SIGN = "council:pledge:sign"
    COUNCIL_PLEDGE_REFUSED = "council:pledge:refused"
    COUNCIL_PLEDGE_DOWNLOAD = "council:pledge:download"
    COUNCIL_MEETING_SCHEDULE = "council:meeting:schedule"
    COUNCIL_MEETING_READ = "council:meeting:read"
    COUNCIL_AGENDA_ADD = "council:agenda:add"
    COUNCIL_ATTENDANCE_RECORD = "council:attendance:record"
    COUNCIL_MINUTES_DRAFT = "council:minutes:draft"
    COUNCIL_MINUTES_APPROVE = "council:minutes:approve"
    COUNCIL_MEETING_RECORD = "council:meeting:record"  # a meeting recorded as already held (issue 13)
    COUNCIL_ATTENDANCE_SHEET = "council:attendance:sheet"  # attendance of everyone in one form
    COUNCIL_MINUTES_CIRCULATE = "council:minutes:circulate"  # sent to the attendees for confirmation
    COUNCIL_MINUTES_CONFIRM = "council:minutes:confirm"  # an attendee confirmed or commented
    COUNCIL_MINUTES_REFUSED = "council:minutes:refused"  # a confirmation by a non-attendee, an early approval
    COUNCIL_MINUTES_REMIND = "council:minutes:remind"
    COUNCIL_MATERIAL_ADD = "council:material:add"  # a meeting material (配布資料)
    COUNCIL_MATERIAL_DOWNLOAD = "council:material:download"
    # what counts as secret (issue 13): oral statements (口頭で述べた事項) and exclusion claims (秘密情報の除外)
    COUNCIL_STATEMENT_RECORD = "council:statement:record"
    COUNCIL_STATEMENT_DESIGNATE = "council:statement:designate"  # designated in writing within the period
    COUNCIL_STATEMENT_READ = "council:statement:read"
    COUNCIL_STATEMENT_REMIND = "council:statement:remind"
    COUNCIL_STATEMENT_REFUSED = "council:statement:refused"  # a late designation, or by someone else
    INFO_EXCLUSION_FILE = "information:exclusion:file"
    INFO_EXCLUSION_DECIDE = "information:exclusion:decide"  # the secretariat's decision, to be confirmed
    INFO_EXCLUSION_CONFIRM = "information:exclusion:confirm"  # the chair's confirmation: the claim is settled
    INFO_EXCLUSION_WITHDRAW = "information:exclusion:withdraw"
    INFO_EXCLUSION_READ = "information:exclusion:read"  # evidence read (sealed council content)
    INFO_EXCLUSION_DOWNLOAD = "information:exclusion:download"  # evidence file (marked copy)
    INFO_EXCLUSION_REFUSED = "information:exclusion:refused"
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
    COUNCIL_FILE_READ = "council:file:read"
    COUNCIL_INTEGRITY_FAILED = "council:integrity:failed"
    COUNCIL_MINUTES_READ = "council:minutes:read"
    COUNCIL_DECISION_READ = "council:decision:read"
    # programme (指針・資金支援, F1–F5, C2)
    PROGRAMME_REGISTRY_IMPORT = "programme:registry:import"
    PROGRAMME_AGENCY_CREATE = "programme:agency:create"
    PROGRAMME_LEDGER_TRANCHE = "programme:ledger:tranche"
    PROGRAMME_LEDGER_COMMITMENT = "programme:ledger:commitment"
    PROGRAMME_LEDGER_RELEASE = "programme:ledger:release"
    PROGRAMME_LEDGER_DISBURSEMENT = "programme:ledger:disbursement"
    PROGRAMME_DISBURSEMENT_REFUSED = "programme:ledger:disbursement_refused"
    PROGRAMME_LEDGER_RETURN = "programme:ledger:return"
    PROGRAMME_LEDGER_EXPORT = "programme:ledger:export"
    PROGRAMME_CALL_CREATE = "programme:call:create"
    PROGRAMME_CALL_PUBLISH = "programme:call:publish"
    PROGRAMME_PROPOSAL_SUBMIT = "programme:proposal:submit"
    PROGRAMME_PROPOSAL_WITHDRAW = "programme:proposal:withdraw"
    PROGRAMME_PROPOSAL_DRAFT = "programme:proposal:draft"  # F6: 一時保存
    PROGRAMME_PROPOSAL_UPDATE = "programme:proposal:update"  # F6: edited (draft, or submitted before the close)
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
    PROGRAMME_DECLARATION_REMIND = "programme:declaration:remind"  # F4: periodic review due soon / overdue
    PROGRAMME_REPORT_SCHEDULE = "programme:report:schedule"  # F6: the results reports a project owes
    PROGRAMME_REPORT_SUBMIT = "programme:report:submit"
    PROGRAMME_REPORT_DECIDE = "programme:report:decide"  # accepted or returned by the agency
    PROGRAMME_REPORT_REMIND = "programme:report:remind"
    PROGRAMME_EVALUATION_OPEN = "programme:evaluation:open"  # F6: 中間評価・事後評価
    PROGRAMME_EVALUATION_DECLARE = "programme:evaluation:declare"
    PROGRAMME_EVALUATION_GRADE = "programme:evaluation:grade"
    PROGRAMME_EVALUATION_COMPLETE = "programme:evaluation:complete"
    PROGRAMME_EVALUATION_REMIND = "programme:evaluation:remind"
    PROGRAMME_REPORTS_EXPORT = "programme:reports:export"  # F6: report and evaluation status workbook
    PROGRAMME_REPORT_READ = "programme:report:read"  # F6: submitted results reports read (I8-style audit)
    PROGRAMME_EVALUATION_READ = "programme:evaluation:read"  # F6: grades, comments and conflict reasons read
    PROGRAMME_REPORT_FILE = "programme:report:file"  # a report provided to the council as a result (I1)
    PROGRAMME_GUIDELINE_ADOPT = "programme:guideline:adopt"
    PROGRAMME_ASSESSMENT_RECORD = "programme:assessment:record"
    PROGRAMME_COMMISSION_CREATE = "programme:commission:create"
    PROGRAMME_COMMISSION_ACKNOWLEDGE = "programme:commission:acknowledge"
    PROGRAMME_COMMISSION_TASK = "programme:commission:task"
    PROGRAMME_COMMISSION_DELIVERABLE = "programme:commission:deliverable"
    PROGRAMME_COMMISSION_DOWNLOAD = "programme:commission:download"
    PROGRAMME_COMMISSION_READ = "programme:commission:read"
    PROGRAMME_INTEGRITY_FAILED = "programme:integrity:failed"
    PROGRAMME_COMMISSION_STATE = "programme:commission:state"
    PROGRAMME_REVIEWER_ASSIGN = "programme:reviewer:assign"  # F6: a reviewer assigned to one proposal
    PROGRAMME_REVIEWER_UNASSIGN = "programme:reviewer:unassign"
    PROGRAMME_INTEGRITY_CHANGE = "programme:integrity:change"  # F6: a change declared after adoption
    PROGRAMME_INTEGRITY_READ = "programme:integrity:read"
    PROGRAMME_DUPLICATION_READ = "programme:duplication:read"  # F6: staff read the duplication flags
    PROGRAMME_PLAN_DOCUMENT_UPLOAD = "programme:plan_document:upload"  # F6: 研究提案書・様式 sealed at upload
    PROGRAMME_PLAN_DOCUMENT_DOWNLOAD = "programme:plan_document:download"  # a stamped copy handed out (I8)
    PROGRAMME_PLAN_CHANGE_REQUEST = "programme:plan_change:request"  # 計画変更 requested by the representative
    PROGRAMME_PLAN_CHANGE_DECIDE = "programme:plan_change:decide"  # approved or returned by the agency
    PROGRAMME_PLAN_CHANGE_NOTIFY = "programme:plan_change:notify"  # a small change applied on notice alone
    PROGRAMME_PLAN_CHANGE_REFUSED = "programme:plan_change:refused"  # approval refused: the fund cannot cover it
    PROGRAMME_PANEL_READ = "programme:panel:read"  # F6: the panel view (scores and comments side by side)
    PROGRAMME_DECISION_NOTICE = "programme:decision:notice"  # F6: adoption or rejection notice sent
    PROGRAMME_STATISTICS_READ = "programme:statistics:read"  # issue 15: call statistics for the agency's staff
    PROGRAMME_STATISTICS_EXPORT = "programme:statistics:export"
    PROGRAMME_PANEL_EXPORT = "programme:panel:export"  # issue 15: the panel view as a workbook
    PROGRAMME_DUPLICATION_EXPORT = "programme:duplication:export"  # issue 15: the flags as a workbook
    PROGRAMME_ROSTER_CONTACT = "programme:roster:contact"
    PROGRAMME_ROSTER_ADD = "programme:roster:add"
    PROGRAMME_ROSTER_REMOVE = "programme:roster:remove"
    PROGRAMME_ROSTER_REFUSED = "programme:roster:refused"
    PROGRAMME_ROSTER_DOWNLOAD = "programme:roster:download"
    PROGRAMME_ROSTER_READ = "programme:roster:read"
    # think tank (T5, T6, T8): needs entered by ministries, saved analyses, reports out of the web
    THINKTANK_NEEDS_ENTER = "thinktank:needs:enter"
    THINKTANK_NEEDS_IMPORT = "thinktank:needs:import"
    THINKTANK_NEEDS_REFUSED = "thinktank:needs:refused"
    THINKTANK_ANALYSIS_SAVE = "thinktank:analysis:save"
    THINKTANK_REPORT_EXPORT = "thinktank:report:export"
    THINKTANK_REPORT_FILE = "thinktank:report:file"
    THINKTANK_REPORT_FILE_COMMISSION = "thinktank:report:file_commission"
    # controlled information (I1–I11)
    INFO_ITEM_CREATE = "information:item:create"
    INFO_ITEM_VERSION = "information:item:version"
    INFO_ITEM_READ = "information:item:read"
    INFO_ITEM_PUBLISH = "information:item:publish"
    INFO_ITEM_EXPORT = "information:item:export"
    INFO_ITEM_IMPORT = "information:item:import"
    INFO_FILE_UPLOAD = "information:file:upload"
    INFO_FILE_DOWNLOAD = "information:file:download"
    INFO_FILE_REFUSED = "information:file:refused"
    INFO_VERSION_REFUSED = "information:version:refused"  # a version by someone else, or of a published item
    INFO_READ_REFUSED = "information:read:refused"  # a signed-in read refused by the gate (404 or 403, I7, I12)
    INFO_FILE_VIEW = "information:file:view"  # a view-only file shown on screen, stamped per viewer (I12)
    INFO_UPLOAD_REJECTED = "information:upload:rejected"
    INFO_INTEGRITY_FAILED = "information:integrity:failed"
    INFO_DESIGNATION_PROPOSE = "information:designation:propose"
    INFO_DESIGNATION_ACCEPT = "information:designation:accept"
    INFO_DESIGNATION_REJECT = "information:designation:reject"
    INFO_DESIGNATION_REFUSED = "information:designation:refused"
    INFO_DESIGNATION_LAPSE = "information:designation:lapse"
    # export control (F7): classification (該非判定) and deemed-export clearance (みなし輸出)
    EXPORT_CLASSIFY = "information:export:classify"
    EXPORT_CLASSIFY_REFUSED = "information:export:classify_refused"
    EXPORT_CLEARANCE_REQUEST = "council:export:request"
    EXPORT_CLEARANCE_CLEAR = "council:export:clear"
    EXPORT_CLEARANCE_REFUSE = "council:export:refuse"
    EXPORT_CLEARANCE_REMIND = "council:export:remind"
    EXPORT_QUEUE_READ = "council:export:queue_read"
    EXPORT_PROFILE_SET = "accounts:user:export_profile"
    INFO_DESIGNATION_REMIND = "information:designation:remind"
    INFO_NONDISCLOSURE_REQUEST = "information:nondisclosure:request"
    INFO_NONDISCLOSURE_ACCEPT = "information:nondisclosure:accept"
    INFO_NONDISCLOSURE_REJECT = "information:nondisclosure:reject"
    INFO_PUBLICATION_PROPOSE = "information:publication:propose"
    INFO_PUBLICATION_ACCEPT = "information:publication:accept"
    INFO_PUBLICATION_REJECT = "information:publication:reject"
    INFO_PUBLICATION_REFUSED = "information:publication:refused"
    # publication conditions (issue 13): who may request, and the review date of a withheld result
    INFO_NONDISCLOSURE_REFUSED = "information:nondisclosure:refused"
    INFO_WITHHELD_RENEW_PROPOSE = "information:withheld:renew_propose"
    INFO_WITHHELD_RENEW_ACCEPT = "information:withheld:renew_accept"
    INFO_WITHHELD_RENEW_REJECT = "information:withheld:renew_reject"
    INFO_WITHHELD_RELEASE_PROPOSE = "information:withheld:release_propose"
    INFO_WITHHELD_RELEASE_ACCEPT = "information:withheld:release_accept"
    INFO_WITHHELD_RELEASE_REJECT = "information:withheld:release_reject"
    INFO_WITHHELD_REMIND = "information:withheld:remind"
    INFO_WITHHELD_RELEASE = "information:withheld:release"
    INFO_PROVENANCE_REFUSED = "information:provenance:refused"
    INFO_VOTE_CAST = "information:vote:cast"
    INFO_VOTE_REFUSED = "information:vote:refused"
    INFO_LEAK_ATTRIBUTE = "information:leak:attribute"
    INFO_INCIDENT_REPORT = "information:incident:report"
    INFO_INCIDENT_TRIAGE = "information:incident:triage"
    INFO_INCIDENT_ATTRIBUTE = "information:incident:attribute"
    INFO_INCIDENT_CLOSE = "information:incident:close"
    INFO_SEARCH = "information:search:query"


# Labels of the audit event types, grouped by source (issue 14). English is the msgid;
# Japanese is in the ja catalogue; tests/audit/test_labels.py fails on a tag without a label.
LABELS: Mapping[str, str] = {
    AuditTag.LOGIN: "Signed in (password)",
    AuditTag.LOGIN_FAILED: "Failed sign-in",
    AuditTag.LOGOUT: "Signed out",
    AuditTag.LOGIN_LOCKED: "Sign-in locked",
    AuditTag.LOGIN_SSO: "Signed in (single sign-on)",
    AuditTag.LOGIN_SSO_REFUSED: "Single sign-on refused",
    AuditTag.IDENTITY_LINK: "Single sign-on identity linked",
    AuditTag.MFA_ENROL: "Second factor set up",
    AuditTag.MFA_VERIFY: "Second factor verified",
    AuditTag.MFA_VERIFY_FAILED: "Second factor failed",
    AuditTag.MFA_REPLAY_REFUSED: "Reused code refused",
    AuditTag.MFA_RECOVERY_USED: "Recovery code used",
    AuditTag.MFA_RESET: "Second factor reset",
    AuditTag.TOKEN_ISSUE: "API token issued",
    AuditTag.TOKEN_REVOKE: "API token revoked",
    AuditTag.TOKEN_REJECTED: "API token rejected",
    AuditTag.USER_CREATE: "User created",
    AuditTag.USER_UPDATE: "User updated",
    AuditTag.USER_DISABLE: "User disabled",
    AuditTag.ORG_CREATE: "Organisation created",
    AuditTag.ROLE_GRANT: "Role granted",
    AuditTag.ROLE_REVOKE: "Role revoked",
    AuditTag.CHECKPOINT_SIGN: "Checkpoint signed",
    AuditTag.LOG_EXPORT: "Audit log exported",
    AuditTag.PROOF_READ: "Proof read",
    AuditTag.KEYS_COUNCIL_DESTROYED: "Council key destroyed",
    AuditTag.KEYS_COMMISSION_DESTROYED: "Commission key destroyed",
    AuditTag.KEYS_PROPOSAL_DESTROYED: "Proposal key destroyed",
    AuditTag.DEMO_SEED: "Demo data created",
    AuditTag.SEALED_KEY_ROTATE: "Sealed-store key rotated",
    AuditTag.SEALED_KEY_RETIRE: "Sealed-store key version retired",
    AuditTag.SEALED_KEY_MIGRATE: "Sealed-store key moved into the HSM",
    AuditTag.COUNCIL_PROPOSE: "Council proposed",
    AuditTag.COUNCIL_ESTABLISH: "Council established",
    AuditTag.COUNCIL_LAPSE: "Council proposal lapsed",
    AuditTag.COUNCIL_ACTIVATE: "Council activated",
    AuditTag.COUNCIL_DISSOLVE: "Council dissolved",
    AuditTag.COUNCIL_BYLAWS_AMEND: "Bylaws amended",
    AuditTag.COUNCIL_BYLAWS_PROPOSE: "Bylaws amendment proposed",
    AuditTag.COUNCIL_BYLAWS_VOTE: "Vote cast on a bylaws amendment",
    AuditTag.COUNCIL_BYLAWS_VOTE_REFUSED: "Vote on a bylaws amendment refused",
    AuditTag.COUNCIL_BYLAWS_REJECT: "Bylaws amendment rejected",
    AuditTag.COUNCIL_BYLAWS_WITHDRAW: "Bylaws amendment withdrawn",
    AuditTag.COUNCIL_BYLAWS_REMIND: "Members reminded to vote on a bylaws amendment",
    AuditTag.COUNCIL_CONSENT_GIVE: "Consent given",
    AuditTag.COUNCIL_CONSENT_DECLINE: "Consent declined",
    AuditTag.COUNCIL_CONSENT_REFUSED: "Consent refused",
    AuditTag.COUNCIL_CONSENT_EXPIRE: "Consent request expired",
    AuditTag.COUNCIL_CONSENT_REMIND: "Consent reminder sent",
    AuditTag.COUNCIL_MEMBER_INVITE: "Member invited",
    AuditTag.COUNCIL_MEMBER_JOIN: "Member joined",
    AuditTag.COUNCIL_MEMBER_LEAVE: "Member left",
    AuditTag.COUNCIL_MEMBER_ROLE: "Member role changed",
    AuditTag.COUNCIL_MEMBER_REMOVE: "Member removed by the secretariat",
    AuditTag.COUNCIL_PLEDGE_SIGN: "Pledge signed",
    AuditTag.COUNCIL_PLEDGE_REFUSED: "Pledge signature refused",
    AuditTag.COUNCIL_PLEDGE_DOWNLOAD: "Pledge downloaded",
    AuditTag.COUNCIL_MEETING_SCHEDULE: "Meeting scheduled",
    AuditTag.COUNCIL_MEETING_READ: "Meeting read",
    AuditTag.COUNCIL_AGENDA_ADD: "Agenda item added",
    AuditTag.COUNCIL_ATTENDANCE_RECORD: "Attendance recorded",
    AuditTag.COUNCIL_MINUTES_DRAFT: "Minutes drafted",
    AuditTag.COUNCIL_MINUTES_APPROVE: "Minutes approved",
    AuditTag.COUNCIL_MEETING_RECORD: "Meeting recorded as held",
    AuditTag.COUNCIL_ATTENDANCE_SHEET: "Attendance of everyone recorded",
    AuditTag.COUNCIL_MINUTES_CIRCULATE: "Minutes sent to the attendees for confirmation",
    AuditTag.COUNCIL_MINUTES_CONFIRM: "Minutes confirmed or commented by an attendee",
    AuditTag.COUNCIL_MINUTES_REFUSED: "Minutes step refused",
    AuditTag.COUNCIL_MINUTES_REMIND: "Attendees reminded to confirm the minutes",
    AuditTag.COUNCIL_MATERIAL_ADD: "Meeting material provided",
    AuditTag.COUNCIL_MATERIAL_DOWNLOAD: "Meeting material downloaded (marked copy)",
    AuditTag.COUNCIL_STATEMENT_RECORD: "Oral statement recorded",
    AuditTag.COUNCIL_STATEMENT_DESIGNATE: "Oral statement designated in writing",
    AuditTag.COUNCIL_STATEMENT_READ: "Oral statements read",
    AuditTag.COUNCIL_STATEMENT_REMIND: "Reminder sent: written designation of an oral statement",
    AuditTag.COUNCIL_STATEMENT_REFUSED: "Oral statement designation refused",
    AuditTag.INFO_EXCLUSION_FILE: "Exclusion claimed",
    AuditTag.INFO_EXCLUSION_DECIDE: "Exclusion claim decided by the secretariat",
    AuditTag.INFO_EXCLUSION_CONFIRM: "Exclusion claim confirmed by the chair",
    AuditTag.INFO_EXCLUSION_WITHDRAW: "Exclusion claim withdrawn",
    AuditTag.INFO_EXCLUSION_READ: "Exclusion claim evidence read",
    AuditTag.INFO_EXCLUSION_DOWNLOAD: "Exclusion claim evidence downloaded (marked copy)",
    AuditTag.INFO_EXCLUSION_REFUSED: "Exclusion claim refused",
    AuditTag.COUNCIL_DECISION_RECORD: "Decision recorded",
    AuditTag.COUNCIL_ACTION_CREATE: "Action item created",
    AuditTag.COUNCIL_ACTION_REFUSED: "Action item refused",
    AuditTag.COUNCIL_ACTION_COMPLETE: "Action item completed",
    AuditTag.COUNCIL_ACTION_CANCEL: "Action item cancelled",
    AuditTag.COUNCIL_ACTION_REMIND: "Action item reminder sent",
    AuditTag.COUNCIL_REQUEST_CREATE: "Request sent",
    AuditTag.COUNCIL_REQUEST_ANSWER: "Request answered",
    AuditTag.COUNCIL_REQUEST_CLOSE: "Request closed",
    AuditTag.COUNCIL_REQUEST_READ: "Request read",
    AuditTag.COUNCIL_FILE_DOWNLOAD: "Council file downloaded",
    AuditTag.COUNCIL_FILE_READ: "Council file read",
    AuditTag.COUNCIL_INTEGRITY_FAILED: "Council file integrity check failed",
    AuditTag.COUNCIL_MINUTES_READ: "Minutes read",
    AuditTag.COUNCIL_DECISION_READ: "Decision read",
    AuditTag.PROGRAMME_REGISTRY_IMPORT: "Technology registry imported",
    AuditTag.PROGRAMME_AGENCY_CREATE: "Funding agency created",
    AuditTag.PROGRAMME_LEDGER_TRANCHE: "Fund tranche recorded",
    AuditTag.PROGRAMME_LEDGER_COMMITMENT: "Commitment recorded",
    AuditTag.PROGRAMME_LEDGER_RELEASE: "Commitment released",
    AuditTag.PROGRAMME_LEDGER_DISBURSEMENT: "Disbursement recorded",
    AuditTag.PROGRAMME_DISBURSEMENT_REFUSED: "Disbursement refused",
    AuditTag.PROGRAMME_LEDGER_RETURN: "Return recorded",
    AuditTag.PROGRAMME_LEDGER_EXPORT: "Fund ledger exported",
    AuditTag.PROGRAMME_CALL_CREATE: "Call created",
    AuditTag.PROGRAMME_CALL_PUBLISH: "Call published",
    AuditTag.PROGRAMME_PROPOSAL_SUBMIT: "Proposal submitted",
    AuditTag.PROGRAMME_PROPOSAL_DRAFT: "Proposal saved as a draft",
    AuditTag.PROGRAMME_PROPOSAL_UPDATE: "Proposal edited",
    AuditTag.PROGRAMME_PROPOSAL_WITHDRAW: "Proposal withdrawn",
    AuditTag.PROGRAMME_PROPOSAL_READ: "Proposal read",
    AuditTag.PROGRAMME_PANEL_ADD: "Reviewer added to the panel",
    AuditTag.PROGRAMME_CONFLICT_DECLARE: "Conflict of interest declared",
    AuditTag.PROGRAMME_PROPOSAL_SCORE: "Proposal scored",
    AuditTag.PROGRAMME_DECISION_RECORD: "Selection decision recorded",
    AuditTag.PROGRAMME_PROJECT_CREATE: "Project created",
    AuditTag.PROGRAMME_PROJECT_COUNCIL_OPEN: "Council opened for a project",
    AuditTag.PROGRAMME_MILESTONE_ADD: "Milestone added",
    AuditTag.PROGRAMME_MILESTONE_UPDATE: "Milestone updated",
    AuditTag.PROGRAMME_DECLARATION_REVIEW: "Declaration reviewed",
    AuditTag.PROGRAMME_DECLARATION_REMIND: "Declaration review reminded",
    AuditTag.PROGRAMME_REPORT_SCHEDULE: "Results reports scheduled",
    AuditTag.PROGRAMME_REPORT_SUBMIT: "Results report submitted",
    AuditTag.PROGRAMME_REPORT_DECIDE: "Results report accepted or returned",
    AuditTag.PROGRAMME_REPORT_REMIND: "Results report reminded",
    AuditTag.PROGRAMME_EVALUATION_OPEN: "Evaluation opened",
    AuditTag.PROGRAMME_EVALUATION_DECLARE: "Evaluator's conflict declared",
    AuditTag.PROGRAMME_EVALUATION_GRADE: "Evaluation graded",
    AuditTag.PROGRAMME_EVALUATION_COMPLETE: "Evaluation result recorded",
    AuditTag.PROGRAMME_EVALUATION_REMIND: "Evaluator reminded",
    AuditTag.PROGRAMME_REPORTS_EXPORT: "Report and evaluation status exported",
    AuditTag.PROGRAMME_REPORT_FILE: "Results report provided to the council",
    AuditTag.PROGRAMME_REPORT_READ: "Results reports read",
    AuditTag.PROGRAMME_EVALUATION_READ: "Evaluation read",
    AuditTag.PROGRAMME_REVIEWER_ASSIGN: "Reviewer assigned to a proposal",
    AuditTag.PROGRAMME_REVIEWER_UNASSIGN: "Reviewer unassigned from a proposal",
    AuditTag.PROGRAMME_INTEGRITY_CHANGE: "Integrity change declared",
    AuditTag.PROGRAMME_INTEGRITY_READ: "Integrity disclosures read",
    AuditTag.PROGRAMME_DUPLICATION_READ: "Duplication flags read",
    AuditTag.PROGRAMME_PLAN_DOCUMENT_UPLOAD: "Research plan document uploaded",
    AuditTag.PROGRAMME_PLAN_DOCUMENT_DOWNLOAD: "Research plan document downloaded",
    AuditTag.PROGRAMME_PLAN_CHANGE_REQUEST: "Plan change requested",
    AuditTag.PROGRAMME_PLAN_CHANGE_DECIDE: "Plan change decided",
    AuditTag.PROGRAMME_PLAN_CHANGE_NOTIFY: "Plan change notified",
    AuditTag.PROGRAMME_PLAN_CHANGE_REFUSED: "Plan change refused by the ledger",
    AuditTag.PROGRAMME_PANEL_READ: "Panel view read",
    AuditTag.PROGRAMME_DECISION_NOTICE: "Decision notice sent",
    AuditTag.PROGRAMME_GUIDELINE_ADOPT: "Guideline adopted",
    AuditTag.PROGRAMME_ASSESSMENT_RECORD: "Assessment recorded",
    AuditTag.PROGRAMME_COMMISSION_CREATE: "Commission created",
    AuditTag.PROGRAMME_COMMISSION_ACKNOWLEDGE: "Commission acknowledged",
    AuditTag.PROGRAMME_COMMISSION_TASK: "Commission task recorded",
    AuditTag.PROGRAMME_COMMISSION_DELIVERABLE: "Commission deliverable uploaded",
    AuditTag.PROGRAMME_COMMISSION_DOWNLOAD: "Commission file downloaded",
    AuditTag.PROGRAMME_COMMISSION_READ: "Commission read",
    AuditTag.PROGRAMME_INTEGRITY_FAILED: "Commission file integrity check failed",
    AuditTag.PROGRAMME_COMMISSION_STATE: "Commission state changed",
    AuditTag.PROGRAMME_STATISTICS_READ: "Call statistics read",
    AuditTag.PROGRAMME_STATISTICS_EXPORT: "Call statistics exported",
    AuditTag.PROGRAMME_PANEL_EXPORT: "Panel view exported",
    AuditTag.PROGRAMME_DUPLICATION_EXPORT: "Duplication flags exported",
    AuditTag.PROGRAMME_ROSTER_CONTACT: "Commission contact named",
    AuditTag.PROGRAMME_ROSTER_ADD: "Person named on a commission roster",
    AuditTag.PROGRAMME_ROSTER_REMOVE: "Person removed from a commission roster",
    AuditTag.PROGRAMME_ROSTER_REFUSED: "Commission duty acknowledgement refused",
    AuditTag.PROGRAMME_ROSTER_DOWNLOAD: "Commission duty acknowledgement downloaded",
    AuditTag.PROGRAMME_ROSTER_READ: "Commission roster read",
    AuditTag.INFO_ITEM_CREATE: "Information item created",
    AuditTag.INFO_ITEM_VERSION: "New version of an item",
    AuditTag.INFO_ITEM_READ: "Information item read",
    AuditTag.INFO_ITEM_PUBLISH: "Information item published",
    AuditTag.INFO_ITEM_EXPORT: "Information item exported",
    AuditTag.INFO_ITEM_IMPORT: "Information item imported",
    AuditTag.INFO_FILE_UPLOAD: "File uploaded",
    AuditTag.INFO_FILE_DOWNLOAD: "File downloaded",
    AuditTag.INFO_FILE_REFUSED: "File download refused",
    AuditTag.INFO_VERSION_REFUSED: "New version refused",
    AuditTag.INFO_READ_REFUSED: "Read refused",
    AuditTag.INFO_FILE_VIEW: "File viewed (watermarked)",
    AuditTag.INFO_UPLOAD_REJECTED: "Upload rejected",
    AuditTag.INFO_INTEGRITY_FAILED: "File integrity check failed",
    AuditTag.INFO_DESIGNATION_PROPOSE: "Designation proposed",
    AuditTag.INFO_DESIGNATION_ACCEPT: "Designation accepted",
    AuditTag.INFO_DESIGNATION_REJECT: "Designation rejected",
    AuditTag.INFO_DESIGNATION_REFUSED: "Designation refused",
    AuditTag.INFO_DESIGNATION_LAPSE: "Designation lapsed",
    AuditTag.EXPORT_CLASSIFY: "Export-control classification recorded",
    AuditTag.EXPORT_CLASSIFY_REFUSED: "Export-control classification refused",
    AuditTag.EXPORT_CLEARANCE_REQUEST: "Deemed-export check opened",
    AuditTag.EXPORT_CLEARANCE_CLEAR: "Deemed-export check cleared",
    AuditTag.EXPORT_CLEARANCE_REFUSE: "Deemed-export check refused",
    AuditTag.EXPORT_CLEARANCE_REMIND: "Deemed-export check reminder sent",
    AuditTag.EXPORT_QUEUE_READ: "Deemed-export queue read",
    AuditTag.EXPORT_PROFILE_SET: "Nationality and foreign affiliation recorded",
    AuditTag.INFO_DESIGNATION_REMIND: "Designation vote reminder sent",
    AuditTag.INFO_NONDISCLOSURE_REQUEST: "Non-disclosure requested",
    AuditTag.INFO_NONDISCLOSURE_ACCEPT: "Non-disclosure accepted",
    AuditTag.INFO_NONDISCLOSURE_REJECT: "Non-disclosure rejected",
    AuditTag.INFO_PUBLICATION_PROPOSE: "Publication proposed",
    AuditTag.INFO_PUBLICATION_ACCEPT: "Publication accepted",
    AuditTag.INFO_PUBLICATION_REJECT: "Publication rejected",
    AuditTag.INFO_PUBLICATION_REFUSED: "Publication refused",
    AuditTag.INFO_NONDISCLOSURE_REFUSED: "Non-disclosure request refused",
    AuditTag.INFO_WITHHELD_RENEW_PROPOSE: "Continued withholding proposed",
    AuditTag.INFO_WITHHELD_RENEW_ACCEPT: "Continued withholding accepted",
    AuditTag.INFO_WITHHELD_RENEW_REJECT: "Continued withholding rejected",
    AuditTag.INFO_WITHHELD_RELEASE_PROPOSE: "Release of a withheld result proposed",
    AuditTag.INFO_WITHHELD_RELEASE_ACCEPT: "Release of a withheld result accepted",
    AuditTag.INFO_WITHHELD_RELEASE_REJECT: "Release of a withheld result rejected",
    AuditTag.INFO_WITHHELD_REMIND: "Withheld result review reminder sent",
    AuditTag.INFO_WITHHELD_RELEASE: "Withheld result released at its review date",
    AuditTag.INFO_PROVENANCE_REFUSED: "Provenance check refused",
    AuditTag.INFO_VOTE_CAST: "Vote cast",
    AuditTag.INFO_VOTE_REFUSED: "Vote refused",
    AuditTag.INFO_LEAK_ATTRIBUTE: "Leaked copy attributed",
    AuditTag.INFO_INCIDENT_REPORT: "Incident reported",
    AuditTag.INFO_INCIDENT_TRIAGE: "Incident triaged",
    AuditTag.INFO_INCIDENT_ATTRIBUTE: "Incident attributed",
    AuditTag.INFO_INCIDENT_CLOSE: "Incident closed",
    AuditTag.INFO_SEARCH: "Information searched",
    AuditTag.THINKTANK_NEEDS_ENTER: "Implementation need entered",
    AuditTag.THINKTANK_NEEDS_IMPORT: "Implementation needs imported (CSV)",
    AuditTag.THINKTANK_NEEDS_REFUSED: "Implementation need refused",
    AuditTag.THINKTANK_ANALYSIS_SAVE: "Analysis saved",
    AuditTag.THINKTANK_REPORT_EXPORT: "Analysis report exported",
    AuditTag.THINKTANK_REPORT_FILE: "Analysis report filed into a council",
    AuditTag.THINKTANK_REPORT_FILE_COMMISSION: "Analysis report filed into a commission",
}
GROUP_LABELS: Mapping[str, str] = {
    "accounts": "Accounts and sign-in",
    "admin": "Administration",
    "audit": "Audit log",
    "keys": "Keys",
    "sealed": "Sealed store",
    "system": "System",
    "council": "Councils",
    "programme": "K Program",
    "information": "Controlled information",
    "thinktank": "Think tank",
}

# Subject kinds (the part before the first ":") and how the page names them (English msgids).
SUBJECT_KINDS: Mapping[str, str] = {
    "item": "Information item", "council": "Council", "user": "Person", "org": "Organisation",
    "organization": "Organisation", "proposal": "Proposal", "project": "Project", "call": "Call",
    "commission": "Commission", "ballot": "Ballot", "incident": "Incident", "token": "API token",
    "session": "Session", "agency": "Funding agency", "ledger": "Fund ledger", "guideline": "Guideline",
}

# System entries (the log's own upkeep, written every minute while the log grows): hidden from the
# audit page by default so that the people's entries are not buried (issue 14).
SYSTEM_TAGS: frozenset[str] = frozenset({AuditTag.CHECKPOINT_SIGN, AuditTag.DEMO_SEED})


def label(tag: str) -> str:
    """Return the English label (the catalogue msgid) of ``tag``; an unknown tag is its own label."""
    return LABELS.get(tag, tag)


def group_of(tag: str) -> str:
    """Return the source part of ``tag`` (``council`` of ``council:pledge:sign``): the event-type group."""
    return tag.split(":", 1)[0]


def grouped() -> list[tuple[str, list[str]]]:
    """Return the known tags grouped by source, in the order of :data:`GROUP_LABELS` (for pick lists)."""
    groups: dict[str, list[str]] = {g: [] for g in GROUP_LABELS}
    for tag in AuditTag:
        groups.setdefault(group_of(tag), []).append(str(tag))
    return [(g, tags) for g, tags in groups.items() if tags]

"""The egress matrix (DESIGN I12): content kind × egress path × principal, one table, one answer per cell.

The expected answer of every cell is derived below from the rules — I2 (council-shared by default),
I3/I4 (held: provider and secretariat only; voters see the proposal, never the content), I5–I7
(designated: the provider and the scope; second factor and current pledge; out of scope is 404 and
missing from lists, search, counts and exports), I8 (non-public reads audited, copies stamped), I12
(one gate for every path; view-only is viewable, never downloadable or exportable), I13 (only the
current version of a result is public), C3 (no pledge or left: nothing non-public), C6 (an answer
to a material request goes to the requester, the addressee and the managers), F5 (only the people
engaged see a commission) — never from what the code does today.

A cell is one of:

* ``KNOW``   — may know: 200/201 and the content's marker in what came back (a downloaded copy of
  non-public content stamped for the recipient, a read of it audited: I8);
* ``HIDE``   — must not know: 404 (401 / a login redirect for a caller who is not signed in, 403
  only for a token whose scope is narrowed), or absent from the list/search/count/inbox/mail/audit;
* ``REFUSE`` — knows of it but may not take a copy (view-only): the marker never leaves.

Every observation is also checked against the opposite answer, so each cell can fail (a flipped
expectation fails: the test asserts the observation does not satisfy it).

Cells that fail today are listed in ``KNOWN_GAPS`` and run as strict xfails: when a fix lands its
entries must be deleted (a fixed gap XPASSes and fails the run).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.egress.world import FOREIGN, HOME, ITEM_KINDS, KINDS, Creds, Seen, World, marker, open_world

KNOW, HIDE, REFUSE = "know", "hide", "refuse"

PRINCIPALS = ("anonymous", "outsider", "unpledged", "no2fa_session", "reset_token", "narrowed_token",
              "out_of_scope", "ex_member", "removed", "observer", "auditor", "provider", "secretariat", "in_scope",
              "pledged", *FOREIGN)
# C3, I7: a current member with a current pledge and a second factor in this session or token.
CONTENT = frozenset({"provider", "secretariat", "in_scope", "pledged", "out_of_scope", "observer"})
VOTERS = CONTENT - {"observer"}  # I4: every participant but observers decides
HALF_CREDENTIALS = frozenset({"no2fa_session", "reset_token", "narrowed_token"})

READERS: dict[str, frozenset[str]] = {
    "council": CONTENT, "scheduled": CONTENT, "partial": CONTENT,  # I2, I6 (scheduled/withheld: council-wide)
    "withheld": CONTENT,  # I6, I13 (issue 13): a withheld result stays council content until its review date
    "held": frozenset({"provider", "secretariat"}),  # I4
    "designated": frozenset({"provider", "in_scope"}),  # I3, I7: the provider and the named scope
    "view_only": frozenset({"provider", "in_scope"}),
    "public": frozenset(PRINCIPALS),
    "ballot": VOTERS,  # I4: voters (with a pledge and a second factor, C3/I7) see the proposal
    "answer": frozenset({"provider", "secretariat"}),  # C6: the addressee and the requester (secretariat)
    "deliverable": frozenset({"provider", "secretariat"}),  # F5: the contractor and the commissioning officer
    "minutes": CONTENT, "decision": CONTENT,  # I12: council content, sealed like items
    # I12 + C5 (issue 13): meeting materials are council content whether or not marked confidential at provision
    "material": CONTENT, "material_secret": CONTENT,
    "comment": frozenset({"secretariat", "pledged"}),  # C5: a minutes comment: the chair/secretariat and its author
    # T8: needs reasons: the needs officer who wrote it and the ministry officers (never companies, auditors)
    "needs": frozenset({"provider", "secretariat"}),
    # issue 14: a person reads their own audit entries; only whole-log readers (the auditor) read everyone's
    "audit_own": frozenset({"pledged", "auditor"}),
    # issue 13: an oral statement is council content; exclusion evidence is read by council members who can read
    # the claimed item (I7/I12): the council-shared item's readers, or only the designated item's scope
    "statement": CONTENT, "evidence": CONTENT, "evidence_designated": frozenset({"provider", "in_scope"}),
    # issue 13 (C6 under Art. 64): a request to a commission outside the council; the engaged contact who answered
    # (provider) reads it on the commission's side, the requesting secretariat on the council's side
    "tank_request": frozenset({"provider", "secretariat"}),
    # F7 (issue 15): an item classified 該当 is council content, held from a foreign member the export-control
    # officer has not cleared (deemed export); the cleared one reads it like any member
    "controlled": CONTENT | {"foreign_cleared"},
    # session 12 (F6, I8, I12): a proposal's research-plan documents are read by its applicants and the call's
    # agency staff (and assigned reviewers, none here); the agency's workbooks of a proposal (its budget sheet)
    # by the same people, the call's review panel by the agency staff alone
    "plan_document": frozenset({"provider", "secretariat"}),
    "agency_export": frozenset({"provider", "secretariat"}),
}
STAFF_READERS = frozenset({"secretariat"})  # F6: the panel view and the duplication flags are the agency staff's
# Art. 64 (issue 13): people of the commissioned institution besides the engaged contact (provider): a colleague
# never named on the roster, and one named, acknowledged and removed. Neither may know anything of the commission.
TANK_PRINCIPALS = ("tank_colleague", "tank_removed")
RANGE_READERS = frozenset({"provider", "in_scope"})  # the partially designated file (I3 range)

# A1/I12: the audit log as a person reads it: raw entries, the named log, and its CSV and Excel exports
AUDIT_PATHS = ("audit", "audit_api", "audit_csv", "audit_xlsx", "audit_csv_api", "audit_xlsx_page")
MATERIAL_PATHS = ("page", "api_body", "file", "file_page", *AUDIT_PATHS)
# T8: every way a needs reason leaves the think tank: pages, API JSON, each report format
NEEDS_PATHS = ("tt_needs_page", "tt_priorities_page", "tt_needs_api", "tt_priorities_api", "report_html",
               "report_pdf", "report_xlsx", "report_csv", "report_html_page", "report_csv_page",
               "tt_analysis_page", "tt_analysis_api", "report_saved_xlsx", "report_saved_pdf",
               "filed_csv", "filed_xlsx", "filed_commission_csv", "tt_overview", "tt_technology", "tt_need_history_page",
               "tt_need_history_api", "tt_institutions_api", "tt_trends_api", "tt_institutions_csv", "tt_trends_csv")
# The think tank's indicator outputs (session 11: institutions and trends too): open to every reader of the
# indicators (the CSV reports to the ranking roles, as every report); a needs reason never shows on them.
TT_INDICATOR_PATHS = ("tt_overview", "tt_technology", "tt_institutions_api", "tt_trends_api", "tt_institutions_csv",
                      "tt_trends_csv")
ITEM_PATHS = ("page", "api_body", "file", "body_txt", "export_misp", "export_stix", "search", "search_page", "list",
              "list_page", "count", *AUDIT_PATHS, "incident", "portal_search")
NOTICE_PATHS = ("inbox_api", "inbox_page", "email")
# issue 14: the home page and /api/v1/me/tasks name a proposal to answer: to voters only, as the notices do (I4)
HOME_PATHS = ("home_page", "tasks_api")
PATHS: dict[str, tuple[str, ...]] = {
    **{kind: ITEM_PATHS for kind in ITEM_KINDS},
    "council": (*ITEM_PATHS, "version", "version_page", "incident_council"),
    "public": (*ITEM_PATHS, "version", "version_page"),
    "designated": (*ITEM_PATHS, *NOTICE_PATHS),
    "view_only": (*ITEM_PATHS, *NOTICE_PATHS, "viewer"),
    "partial": (*ITEM_PATHS, *NOTICE_PATHS),
    # issue 13: the prior notice of a result (I13); a withheld result's decision and review reminder (I6, I13)
    "scheduled": (*ITEM_PATHS, *NOTICE_PATHS),
    "withheld": (*ITEM_PATHS, *NOTICE_PATHS),
    "ballot": ("ballot_page", "ballot_api", "my_ballots", *NOTICE_PATHS, *HOME_PATHS, *AUDIT_PATHS),
    "answer": ("page", "api_body", "file", *AUDIT_PATHS),
    "minutes": ("page", "api_body", *AUDIT_PATHS),
    "decision": ("page", "list", *AUDIT_PATHS),
    "deliverable": ("page", "api_body", "file", "list", *AUDIT_PATHS),
    "material": MATERIAL_PATHS, "material_secret": MATERIAL_PATHS,
    "comment": ("page", "api_body", *AUDIT_PATHS),
    "needs": (*NEEDS_PATHS, *AUDIT_PATHS),
    "audit_own": AUDIT_PATHS,  # the pledged member's own entry, its data holding their marked words
    # issue 13: the meeting page and the statements API; the item page, the claim API, the item's claim list and
    # the evidence file (API and page)
    "statement": ("page", "api_body", "statement_page", *AUDIT_PATHS),  # + the statement's own page (claims)
    # + the notices a filed claim sends the secretariat and the chair (tankreq): named only to the item's readers
    **dict.fromkeys(("evidence", "evidence_designated"), ("page", "api_body", "list", "file", "file_page",
                                                          *NOTICE_PATHS, *AUDIT_PATHS)),
    # issue 13: the council's request page, API and answer file; the commission's side (page, API, file); notices
    "tank_request": ("page", "api_body", "file", "tank_page", "tank_api", "tank_file", *NOTICE_PATHS, *AUDIT_PATHS),
    # session 12: the document's download on the API and the page (stamped, audited), the proposal's document list;
    # the agency's workbooks: the budget sheet and the review panel, API and page
    "plan_document": ("plan_doc_file", "plan_doc_page", "plan_doc_list", *AUDIT_PATHS),
    "agency_export": ("budget_xlsx", "budget_xlsx_page", "panel_xlsx", "panel_xlsx_page", "duplication_xlsx",
                      "duplication_xlsx_page", *AUDIT_PATHS),
}
# The agency staff's own workbooks (F6): the call's review panel, the duplication and concentration flags
STAFF_PATHS = frozenset({"panel_xlsx", "panel_xlsx_page", "duplication_xlsx", "duplication_xlsx_page"})
TANK_SIDE = ("tank_page", "tank_api", "tank_file")
COPY_PATHS = frozenset({"api_body", "file", "file_page", "body_txt", "export_misp", "export_stix", "tank_api",
                        "tank_file", "plan_doc_file", "plan_doc_page"})  # I12: a copy leaves
STAMPED_PATHS = COPY_PATHS - {"api_body", "tank_api"}  # I8: a downloaded copy of non-public content carries the recipient's mark
# I8, I12: every read of non-public content is audited (a page, a body, a copy, a version, a list of decisions)
AUDITED_PATHS = COPY_PATHS | {"page", "version", "version_page", "tank_page", "statement_page"}
PORTAL_PATHS = frozenset({"page", "api_body", "file", "list", "list_page"})  # the public portal serves these without login


def expected(kind: str, path: str, who: str) -> str | None:
    """Return the answer the rules give for one cell (None: the cell has no meaning)."""
    if who in FOREIGN and kind != "controlled":
        return None  # members of the controlled council only (F7)
    if path in AUDIT_PATHS:  # A1/I12: the auditor reads entries, never titles or file names of non-public content
        if kind == "public":
            return None
        if kind == "audit_own":
            return KNOW if who in READERS[kind] else HIDE
        # and nobody finds in the log (own entries, named subjects, exports) what they may not read
        return HIDE if who == "auditor" or who not in READERS[kind] else None
    if kind == "tank_request":
        return _tank_request(path, who)
    if kind.startswith("evidence") and path in NOTICE_PATHS:
        if path == "email" and who in {"anonymous", *HALF_CREDENTIALS}:
            return None
        # issue 13: a filed claim is told to the secretariat and the chair who read the item (the designated
        # item's secretariat is out of its scope: never told); nobody else, the claimant included (not decided)
        return KNOW if kind == "evidence" and who == "secretariat" else HIDE
    if path == "portal_search":  # I6, issue 14: the portal's search finds published items only, whoever asks
        if kind == "public":
            return None if who in HALF_CREDENTIALS else KNOW  # public anyway, as the portal's other paths
        return HIDE
    if path in HOME_PATHS:  # issue 14: a vote to cast names the proposal to its voters only (I4)
        if who == "provider":
            return None  # the proposer has no pending vote
        return KNOW if who in VOTERS else HIDE
    if path == "incident_council":  # I9 + I7: reporting to a council tells whether it exists
        if who in ("anonymous", "reset_token"):
            return None
        return KNOW if who in CONTENT | {"unpledged"} else HIDE
    if path.startswith("filed_"):
        # T6 + T8: a report filed into a council is read by its members (C3), none of them in a ranking role
        # here: the filed copy may carry the ranking, never a needs reason; the same for a copy filed into a
        # commission (F5), read by its owner side and the engaged people of the institution
        return HIDE
    if path in TT_INDICATOR_PATHS:
        return None if who in READERS[kind] else HIDE  # T8: indicator pages, open to all: reasons need not show
    if path == "email" and who in {"anonymous", *HALF_CREDENTIALS}:
        return None  # mail goes to a person, not to a session or a token
    if kind == "public":
        if path in ("version", "version_page"):
            return KNOW if who in CONTENT else HIDE  # I13: an earlier version stays council-only
        if who in HALF_CREDENTIALS or (who == "anonymous" and path not in PORTAL_PATHS):
            return None  # public anyway; those credentials are tested on non-public content
        return KNOW
    if path in NOTICE_PATHS:
        if kind == "ballot" and who == "provider":
            return None  # the proposer is not told of their own proposal
        if who in VOTERS:
            return KNOW  # voters are told of the proposal (I4): title, never content
        return None if who in READERS[kind] else HIDE  # a reader who is no voter need not be told
    if (path == "my_ballots" and who == "provider") or (path == "incident" and who == "anonymous"):
        return None  # the proposer has no pending vote; reporting needs a sign-in
    if kind == "held" and path == "list_page" and who in VOTERS:
        return None  # the list page also shows the proposals awaiting the voter's answer (I4)
    readers = RANGE_READERS if kind == "partial" and path in ("page", "file") else READERS[kind]
    if path in STAFF_PATHS:
        readers = STAFF_READERS
    if who not in readers:
        return HIDE
    if kind == "view_only" and path in COPY_PATHS and who != "provider":
        return REFUSE  # I12: viewable, never downloadable or exportable (the provider holds the original)
    return KNOW


def _tank_request(path: str, who: str) -> str | None:
    """C6 under Art. 64 (issue 13): the commission's side only for the engaged person who answered (provider),
    never its colleague or a person taken off the roster; the council's side under the usual answer rule (the
    requesting secretariat; other members see the request, not the answer); notices only to the engaged."""
    if path in NOTICE_PATHS:
        if path == "email" and who in {"anonymous", *HALF_CREDENTIALS}:
            return None
        return KNOW if who == "provider" else HIDE
    if path in ("page", "api_body") and who in CONTENT - {"secretariat"}:
        return REFUSE  # C6: council members know of the request (its title), never the answer it got
    return KNOW if who == ("provider" if path in TANK_SIDE else "secretariat") else HIDE


# ---------------------------------------------------------------------------------------------
# Cells that fail today: (kind, path, principal) -> the hole. Delete an entry when its fix lands.

AUDIT_NAMES = "A1/I12: audit data names a non-public file (information:file:upload, council:request:answer)"
UNPLEDGED_VOTER = "C3: an unpledged member is a voter and is shown the proposal (ballot routes, inbox, e-mail)"
TOKEN_2FA = "I7: an API token counts as a second factor and survives a 2FA reset (ballots, inbox)"
TOKEN_SCOPE = "token scope: a token without council scope lists open ballots and reads the inbox"
LEFT = "C3: leaving does not end it: inbox keeps the notices, pending e-mail is still sent, open ballots listed"
LEFT_PAGE = "C3: an ex-member's open ballot is still listed, so their /information page answers 404"
INCIDENT_ORACLE = "I9/I7: reporting an incident to a council one is not in answers 201 (existence oracle)"
UNSTAMPED_EXPORT = "I8: a MISP/STIX export of non-public content carries no recipient mark"
UNSTAMPED_FILE = "I8/I12: answer files and deliverables are served byte-identical, unstamped (not sealed)"
ANSWER_REACH = "C6: a material-request answer reaches every pledged member, not only requester/addressee/managers"
VIEW_ONLY_COPY = "I12: a view-only body leaves in the API JSON and the MISP/STIX export"
NO_VIEWER = "I12: view-only is not viewable: no viewer route yet (viewer helper)"
UNAUDITED_READ = "I8/A1: a read of non-public content leaves no audit entry (earlier version, commission, decisions)"
OLD_VERSION = "I13: an earlier version of a published result is readable by anyone signed in"

KNOWN_GAPS: dict[tuple[str, str, str], str] = {
    # 164 cells failed on the first release; all were closed by the one gate and its branches (issue 11).
}


# ---------------------------------------------------------------------------------------------
# Reading one cell


def _mark(kind: str, path: str) -> str:
    """Return the marker whose presence means "knows" on this path."""
    if kind == "plan_document":  # the file's text; the list names the document by its title
        return marker(kind, "TTL" if path == "plan_doc_list" else "FIL")
    if kind == "agency_export":  # the proposal's title, on every workbook row of it
        return marker(kind, "TTL")
    if kind == "needs":
        return marker(kind, "RSN")
    if kind == "tank_request":  # the answer (its text, its file); a notice names the title
        return marker(kind, "FIL" if path in ("file", "tank_file") else "TTL" if path in NOTICE_PATHS else "BDY")
    if kind in ("material", "material_secret"):
        return marker(kind, "FIL" if path in ("file", "file_page") else "TTL")  # the list shows the title
    if kind == "comment" or kind == "statement":
        return marker(kind, "BDY")
    if kind in ("evidence", "evidence_designated"):
        if path in NOTICE_PATHS:  # the filed notice names the claimed item by its title
            return f"{marker(HOME[kind], 'TTL')}」について除外の申出"
        return marker(kind, "FIL" if path in ("file", "file_page") else "BDY")
    if kind == "ballot" or path in (*NOTICE_PATHS, "search", "search_page", "list", "list_page",
                                    "portal_search") and kind in ITEM_KINDS:
        return marker("held" if kind == "ballot" else kind, "TTL")
    if path == "page":
        return {"partial": marker(kind, "FNM"), "answer": marker(kind, "BDY"), "minutes": marker(kind, "BDY"),
                "decision": marker(kind, "BDY")}.get(kind, marker(kind, "TTL"))
    if path == "file":
        return marker(kind, "FIL")
    if path in ("version", "version_page"):
        return marker(kind, "OLD")
    if kind == "deliverable":
        return marker(kind, "TTL")
    return marker(kind, "BDY")


def _url(world: World, kind: str, path: str, who: str) -> tuple[str, bool]:
    """Return the URL a path reads for ``who`` and whether it is a page (cookie) rather than the API."""
    ids = world.ids[kind]
    anonymous = who == "anonymous"
    info = "/api/v1/information"
    if kind in ITEM_KINDS:
        item = ids["item"]
        query = marker(kind, "TTL").removeprefix("QX")  # part of the title: a page that echoes it shows no marker
        urls = {
            "page": (f"/public/items/{item}" if anonymous else f"/information/items/{item}", True),
            "api_body": (f"{info}/public/items/{item}" if anonymous else f"{info}/items/{item}", False),
            "file": (f"{info}/public/items/{item}/files/{ids['file']}" if anonymous
                     else f"{info}/items/{item}/files/{ids['file']}", False),
            "body_txt": (f"{info}/items/{item}/body.txt", False),
            "version": (f"{info}/items/{item}?version=1", False),
            "version_page": (f"/information/items/{item}?version=1", True),
            "export_misp": (f"{info}/items/{item}/export?format=misp", False),
            "export_stix": (f"{info}/items/{item}/export?format=stix", False),
            "search": (f"{info}/search?q={query}", False),
            "search_page": (f"/information/search?q={query}", True),
            "portal_search": (f"/public?q={query}", True),
            "list_page": ("/public" if anonymous else f"/information?council_id={ids['council']}", True),
            "list": (f"{info}/public/items" if anonymous else f"{info}/items?council_id={ids['council']}", False),
            "count": (f"{info}/items/count?council_id={ids['council']}", False),
            "viewer": (f"/information/items/{item}/files/{ids['file']}/view", True),
        }
    elif kind in ("plan_document", "agency_export"):
        proposal, programme = ids.get("proposal"), "/api/v1/programme"
        urls = {
            "plan_doc_file": (f"{programme}/proposals/{proposal}/documents/{ids.get('document')}", False),
            "plan_doc_page": (f"/programme/proposals/{proposal}/documents/{ids.get('document')}", True),
            "plan_doc_list": (f"{programme}/proposals/{proposal}/documents", False),
            "budget_xlsx": (f"{programme}/proposals/{proposal}/budget.xlsx", False),
            "budget_xlsx_page": (f"/programme/proposals/{proposal}/budget.xlsx", True),
            "panel_xlsx": (f"{programme}/calls/{ids.get('call')}/panel.xlsx", False),
            "panel_xlsx_page": (f"/programme/calls/{ids.get('call')}/review-panel.xlsx", True),
            "duplication_xlsx": (f"{programme}/duplication-flags.xlsx", False),
            "duplication_xlsx_page": ("/programme/duplication.xlsx", True),
        }
    else:
        council = ids.get("council")
        urls = {
            "ballot": {"ballot_page": (f"/information/ballots/{ids.get('ballot')}", True),
                       "ballot_api": (f"{info}/ballots/{ids.get('ballot')}", False),
                       "my_ballots": (f"{info}/ballots", False)},
            "answer": {"page": (f"/councils/{council}/requests/{ids.get('request')}", True),
                       "api_body": (f"/api/v1/councils/{council}/requests/{ids.get('request')}", False),
                       "file": (f"/api/v1/councils/{council}/requests/{ids.get('request')}/files/{ids.get('file')}",
                                False)},
            "minutes": {"page": (f"/councils/{council}/meetings/{ids.get('meeting')}", True),
                        "api_body": (f"/api/v1/councils/{council}/meetings/{ids.get('meeting')}", False)},
            "decision": {"page": (f"/councils/{council}/meetings/{ids.get('meeting')}", True),
                         "list": (f"/api/v1/councils/{council}/decisions", False)},
            "deliverable": {"page": (f"/programme/commissions/{ids.get('commission')}", True),
                            "api_body": (f"/api/v1/programme/commissions/{ids.get('commission')}", False),
                            "file": ((f"/api/v1/programme/commissions/{ids.get('commission')}/deliverables/"
                                      f"{ids.get('file')}"), False),
                            "list": ("/api/v1/programme/commissions", False)},
            **dict.fromkeys(("material", "material_secret"), _material_urls(ids)),
            "statement": {"page": (f"/councils/{council}/meetings/{ids.get('meeting')}", True),
                          "api_body": (f"/api/v1/councils/{council}/meetings/{ids.get('meeting')}/statements",
                                       False),
                          "statement_page": (f"/councils/{council}/statements/{ids.get('statement')}", True)},
            "evidence": _evidence_urls(ids), "evidence_designated": _evidence_urls(ids),
            "tank_request": _tank_request_urls(ids),
            "comment": {"page": (f"/councils/{council}/meetings/{ids.get('meeting')}", True),
                        "api_body": (f"/api/v1/councils/{council}/meetings/{ids.get('meeting')}", False)},
            "needs": {**_needs_urls(ids.get("analysis")),
                      "tt_overview": ("/thinktank", True),
                      "tt_technology": (f"/thinktank/technologies/{world.technology}", True),
                      "tt_need_history_page": (f"/thinktank/needs/{world.technology}", True),
                      "tt_need_history_api": (f"/api/v1/thinktank/needs/{world.technology}", False),
                      "tt_institutions_api": (f"/api/v1/thinktank/institutions/{world.technology}", False),
                      "tt_trends_api": (f"/api/v1/thinktank/trends/{world.technology}", False),
                      "tt_institutions_csv": ("/api/v1/thinktank/reports/institutions.csv", False),
                      "tt_trends_csv": ("/api/v1/thinktank/reports/trends.csv", False),
                      **{f"filed_{f}": (f"{info}/items/{ids.get('filed')}/files/{ids.get(f'filed_{f}')}", False)
                         for f in ("csv", "xlsx")},
                      # T6 + F5: the same report filed as a commission deliverable (issue 16)
                      "filed_commission_csv": ((f"/api/v1/programme/commissions/{ids.get('commission')}/"
                                                f"deliverables/{ids.get('filed_commission')}"), False)},
        }[kind]
    urls.update({"inbox_api": ("/api/v1/notifications", False), "inbox_page": ("/inbox", True),
                 "home_page": ("/dashboard", True), "tasks_api": ("/api/v1/me/tasks", False)})
    return urls[path]


def _evidence_urls(ids: dict[str, int]) -> dict[str, tuple[str, bool]]:
    info = "/api/v1/information"
    return {"page": (f"/information/items/{ids.get('item')}", True),
            "api_body": (f"{info}/exclusions/{ids.get('claim')}", False),
            "list": (f"{info}/items/{ids.get('item')}/exclusions", False),
            "file": (f"{info}/exclusions/{ids.get('claim')}/file", False),
            "file_page": (f"/information/exclusions/{ids.get('claim')}/file", True)}


def _tank_request_urls(ids: dict[str, int]) -> dict[str, tuple[str, bool]]:
    council = f"/councils/{ids.get('council')}/requests/{ids.get('request')}"
    tank = f"/programme/commissions/{ids.get('commission')}/requests/{ids.get('request')}"
    return {"page": (council, True), "api_body": (f"/api/v1{council}", False),
            "file": (f"/api/v1{council}/files/{ids.get('file')}", False),
            "tank_page": (tank, True), "tank_api": (f"/api/v1{tank}", False),
            "tank_file": (f"/api/v1{tank}/files/{ids.get('file')}", False)}


def _material_urls(ids: dict[str, int]) -> dict[str, tuple[str, bool]]:
    meeting = f"/councils/{ids.get('council')}/meetings/{ids.get('meeting')}"
    return {"page": (meeting, True), "api_body": (f"/api/v1{meeting}", False),
            "file": (f"/api/v1{meeting}/materials/{ids.get('material')}", False),
            "file_page": (f"{meeting}/materials/{ids.get('material')}", True)}


def _needs_urls(saved: int | None) -> dict[str, tuple[str, bool]]:
    api = "/api/v1/thinktank"
    return {"tt_needs_page": ("/thinktank/needs", True), "tt_priorities_page": ("/thinktank/priorities", True),
            "tt_needs_api": (f"{api}/needs", False), "tt_priorities_api": (f"{api}/priorities", False),
            "report_html": (f"{api}/reports/report.html", False), "report_pdf": (f"{api}/reports/report.pdf", False),
            "report_xlsx": (f"{api}/reports/report.xlsx", False),
            "report_csv": (f"{api}/reports/priorities.csv", False),
            "report_html_page": ("/thinktank/reports/report.html", True),
            "report_csv_page": ("/thinktank/reports/priorities.csv", True),
            "tt_analysis_page": (f"/thinktank/analyses/{saved}", True),
            "tt_analysis_api": (f"{api}/analyses/{saved}", False),
            "report_saved_xlsx": (f"{api}/reports/report.xlsx?analysis_id={saved}", False),
            "report_saved_pdf": (f"/thinktank/reports/report.pdf?analysis_id={saved}", True)}


AUDIT_URLS = {"audit_csv": ("/audit/export.csv?system=1", True),  # the page's exports (cookie)
              "audit_xlsx_page": ("/audit/export.xlsx?system=1", True),
              "audit_csv_api": ("/api/v1/audit/export.csv?system=1", False),  # the API's (token)
              "audit_xlsx": ("/api/v1/audit/export.xlsx?system=1", False)}


def _audit_log(world: World, creds: Creds) -> Seen:
    """Return the named log the caller can list (GET /api/v1/audit), page by page, as one text."""
    texts, before = [], ""
    while True:
        seen = world.fetch(f"/api/v1/audit?limit=500&system=1{before}", creds, page=False)
        if seen.status != 200:
            return seen
        page = json.loads(seen.text)
        texts.append(seen.text)
        if page["next_before"] is None:
            return Seen(200, "\n".join(texts))
        before = f"&before={page['next_before']}"


def _audit_text(world: World, creds: Creds) -> str:
    """Return every audit entry the caller can list, page by page, as one text."""
    texts, before = [], ""
    while True:
        seen = world.fetch(f"/api/v1/audit/entries?limit=500{before}", creds, page=False)
        if seen.status != 200:
            return seen.text  # refused outright (401/403): nothing of the log leaves
        entries = json.loads(seen.text)
        texts.append(seen.text)
        if len(entries) < 500:
            return "\n".join(texts)
        before = f"&before={min(e['seq'] for e in entries)}"


HIDE_STATUSES = frozenset({200, 302, 303, 307, 401, 404})


PARTS = ("TTL", "SUM", "RSN", "BDY", "OLD", "FIL", "FNM")
CONTENT_PARTS = ("BDY", "OLD", "FIL")  # what a proposal or a refused copy never carries (I4, I12)


def _secrets(kind: str, path: str, parts: tuple[str, ...] = PARTS) -> list[str]:
    """Return the markers a caller who must not know may not see on this path (a partial designation
    hides only its file: the item itself is council-shared)."""
    if kind == "partial" and path in ("page", "file"):
        parts = tuple(p for p in parts if p in ("FIL", "FNM"))
    if kind.startswith("evidence") and path in NOTICE_PATHS:
        return [_mark(kind, path)]  # the claim's notice (the item's own notices are the item kinds' cells)
    return [marker(_home_kind(kind), part) for part in parts]


def _shows(text: str, markers: list[str]) -> bool:
    return any(m in text for m in markers)


def _satisfies(answer: str, kind: str, path: str, who: str, seen: Seen) -> bool:
    """Return True when an observation is the answer ``answer``."""
    status, text = seen.status, seen.text
    if path in ("incident", "incident_council"):
        return status == 201 if answer == KNOW else status in {401, 404} | ({403} if who == "narrowed_token" else set())
    # 403 only for a narrowed token; the think tank's pages answer 403 to a role that may not see them (T8)
    hidden_statuses = HIDE_STATUSES | ({403} if who == "narrowed_token" or kind == "needs" else set())
    if path in STAFF_PATHS:
        hidden_statuses |= {403}  # a published call's panel, the agency-wide flags: the route is known, the content not
    if path == "count":
        count = json.loads(text)["count"] if status == 200 else 0
        return (status == 200 and count == 1) if answer == KNOW else (status in hidden_statuses and count == 0)
    if path in AUDIT_PATHS:
        present = _shows(text, _secrets(kind, path))
        return present if answer == KNOW else not present
    if path == "viewer" and answer == KNOW:  # the viewer shows the file as images: its page names item or file
        return status == 200 and _shows(text, [marker(kind, "TTL"), marker(kind, "FNM")])
    present = _mark(kind, path) in text
    if answer == KNOW:
        if kind == "ballot" and _shows(text, _secrets(kind, path, CONTENT_PARTS)):
            return False  # I4: a proposal never carries the content
        if path in STAMPED_PATHS and kind != "public" and not seen.marked:
            return False  # I8: an unstamped copy of non-public content cannot be attributed
        if _non_public_read(kind, path) and not seen.audited:
            return False  # I8: a read of non-public content leaves an audit entry
        return status in (200, 201) and present
    if answer == REFUSE:
        return not _shows(text, _secrets(kind, path, CONTENT_PARTS)) and status < 500
    return not _shows(text, _secrets(kind, path)) and status in hidden_statuses


def _non_public_read(kind: str, path: str) -> bool:
    """Return True when the path reads non-public content of the kind (so the read must be audited)."""
    if kind == "public":
        return path in ("version", "version_page")  # the earlier version is council content
    if kind == "needs":
        return path.startswith("report_")  # T8: a report export is audited; the pages are role-gated reads
    if kind.startswith("evidence") and path == "list":
        return True  # issue 13: the claim list opens the evidence: audited like a page
    return path in AUDITED_PATHS or (kind, path) == ("decision", "list")


def _home_kind(kind: str) -> str:
    return "held" if kind == "ballot" else kind


def observe(world: World, kind: str, path: str, who: str) -> Seen:
    """Make the cell's request over HTTP and return what it showed."""
    creds = world.creds(kind, who)
    if path == "incident":
        return Seen(world.report_incident(creds, item_id=world.ids[kind]["item"]), "")
    if path == "incident_council":
        return Seen(world.report_incident(creds, council_id=world.ids[kind]["council"]), "")
    if path == "audit":
        return Seen(200, _audit_text(world, creds))
    if path == "audit_api":
        return _audit_log(world, creds)
    if path in AUDIT_URLS:
        url, page = AUDIT_URLS[path]
        return world.fetch(url, creds, page=page)
    if path == "email":
        return Seen(200, world.mail.get(creds.email or "", ""))
    url, page = _url(world, kind, path, who)
    seen = world.fetch(url, creds, page=page)
    if path == "my_ballots" and seen.status == 200:
        # the list holds ids only: it "shows" the proposal when the held item's ballot is in it
        listed = world.ids["ballot"]["ballot"] in [b["id"] for b in json.loads(seen.text)]
        return Seen(seen.status, marker("held", "TTL") if listed else "")
    return seen


# ---------------------------------------------------------------------------------------------
# The table


def _cells() -> Iterator[object]:
    """Yield every meaningful cell; the audit cells last, so the auditor sees the trail of every other read."""
    table = [(kind, path, who) for kind in KINDS for path in PATHS[kind]
             for who in (*PRINCIPALS, *(TANK_PRINCIPALS if kind in ("deliverable", "tank_request") else ()))]
    for kind, path, who in sorted(table, key=lambda cell: cell[1] in AUDIT_PATHS):
        answer = expected(kind, path, who)
        if answer is None:
            continue
        gap = KNOWN_GAPS.get((kind, path, who))
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        yield pytest.param(kind, path, who, answer, id=f"{kind}-{path}-{who}", marks=marks)


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Build the world once for the whole matrix (rolled back at the end of the module)."""
    folder: Path = tmp_path_factory.mktemp("egress")
    yield from open_world(engine, folder)


OPPOSITE = {KNOW: HIDE, HIDE: KNOW, REFUSE: KNOW}


@pytest.mark.parametrize(("kind", "path", "who", "answer"), list(_cells()))
def test_egress(world: World, kind: str, path: str, who: str, answer: str) -> None:
    seen = observe(world, kind, path, who)
    got = f"got {seen.status} (marked={seen.marked}, audited={seen.audited}): {seen.text[:200]}"
    # pytrace=False: a failing (or known-gap) cell reports its one line without a costly traceback
    if not _satisfies(answer, kind, path, who, seen):
        pytest.fail(f"{kind} via {path} as {who}: expected {answer}, {got}", pytrace=False)
    if _satisfies(OPPOSITE[answer], kind, path, who, seen):  # the cell can fail: the opposite answer does not pass
        pytest.fail(f"{kind} via {path} as {who}: the observation passes for {OPPOSITE[answer]} too, {got}",
                    pytrace=False)

"""HTML pages of the audit log: the latest signed checkpoint, entries, and proofs checked in the browser."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from banso.audit import checkpoints, reading
from banso.audit import export as exports
from banso.audit import service as audit
from banso.audit.directory import directory_of
from banso.audit.models import AuditCheckpoint, AuditEntry
from banso.audit.tags import GROUP_LABELS, grouped, label
from banso.authz.guard import require, require_visible
from banso.authz.permissions import Permission
from banso.authz.policies import accounts as policy
from banso.authz.principal import Principal
from banso.kit.disposition import content_disposition
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.pages import PageUser
from banso.web.templating import env, render, translator_for

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
NO_STORE = {"Cache-Control": "no-store"}


def _may_read_whole_log(principal: Principal | None) -> bool:
    """Return True when ``principal`` reads every entry: other pages then link to the activity views."""
    return principal is not None and policy.audit_entry_filter_actor(principal) is None


# Every page names an event by its label (msgid, translated by the template) and may link to the
# per-item and per-person activity views for those who read the whole log (issue 14).
env.globals["audit_tag_label"] = label
env.globals["may_read_audit_log"] = _may_read_whole_log


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _key_facts(ctx: Ctx) -> dict[str, str]:
    """Return the log's public key as witnesses copy it (PEM) and as the browser imports it (raw)."""
    public = ctx.signing_key.public_key()
    return {
        "key_id": checkpoints.key_id(public),
        "pem": checkpoints.public_key_pem(ctx.signing_key),
        "raw_b64": _b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw)),
    }


def _checkpoint_facts(cp: AuditCheckpoint | None, ctx: Ctx) -> dict[str, Any] | None:
    """Return the checkpoint with its signature checked on the server (A2)."""
    if cp is None:
        return None
    return {"row": cp, "signature_ok": checkpoints.verify_checkpoint(cp, ctx.signing_key.public_key())}


def _query(request: Request) -> reading.AuditQuery:
    """Return the filters of the page or export link (the same names as ``GET /api/v1/audit``)."""
    args = request.query_params
    return reading.parse_query(actor=args.get("actor"), org=args.get("org"), tags=args.getlist("tag"),
                               group=args.get("group"), subject=args.get("subject"), day_from=args.get("from"),
                               day_to=args.get("to"), text=args.get("q"), system=args.get("system"))


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    db: Db,
    before: int | None = Query(None, ge=0),
    signed: int | None = None,
) -> HTMLResponse:
    """Show the latest signed checkpoint and the filtered entries the viewer may see, newest first."""
    require(principal, Permission.AUDIT_CHECKPOINT_READ)
    query = _query(request)
    locale = translator_for(request).locale
    page = reading.read_page(db, directory_of(ctx), principal, query, before=before, size=PAGE_SIZE,
                             locale=locale)
    cp = audit.latest_checkpoint(db)
    return render(request, "audit.html", {
        "page": page,
        "query": query,
        "entries": page.rows,
        "older": page.older,
        "before": before,
        "checkpoint": _checkpoint_facts(cp, ctx),
        "key": _key_facts(ctx),
        "tree_size": audit.tree_size(db),
        "sees_all": page.sees_all,
        "may_sign": principal.has(Permission.AUDIT_CHECKPOINT_SIGN),
        "may_export": policy.can_export_audit(principal),
        "interval": ctx.settings.checkpoint_interval_seconds,
        "signed": bool(signed),
        "tag_groups": grouped(),
        "group_labels": GROUP_LABELS,
    })


def _export(request: Request, principal: Principal, ctx: Ctx, db: Db, fmt: str) -> Response:
    """Return the filtered view as a file in the reader's language (the export is audited)."""
    translator = translator_for(request)
    rows = reading.export_entries(db, directory_of(ctx), principal, _query(request), fmt=fmt, now=ctx.clock.now(),
                                  locale=translator.locale)
    stamp = ctx.clock.now().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        body, media = exports.csv_bytes(rows, translator.gettext), exports.CSV_MEDIA_TYPE
    else:
        body, media = exports.xlsx_bytes(rows, translator.gettext), exports.XLSX_MEDIA_TYPE
    return Response(body, media_type=media, headers={
        **NO_STORE, "Content-Disposition": content_disposition(f"audit-{stamp}.{fmt}")})


@router.get("/audit/export.csv")
def export_csv(request: Request, principal: PageUser, ctx: Ctx, db: Db) -> Response:
    """Download the filtered view as CSV."""
    return _export(request, principal, ctx, db, "csv")


@router.get("/audit/export.xlsx")
def export_xlsx(request: Request, principal: PageUser, ctx: Ctx, db: Db) -> Response:
    """Download the filtered view as an Excel workbook."""
    return _export(request, principal, ctx, db, "xlsx")


@router.post("/audit/checkpoints", dependencies=[Depends(verify_csrf)])
def sign_checkpoint(principal: PageUser, ctx: Ctx, db: Db) -> RedirectResponse:
    """Sign a checkpoint of the log now (admin; A2)."""
    require(principal, Permission.AUDIT_CHECKPOINT_SIGN)
    checkpoints.sign_checkpoint(db, key=ctx.signing_key, now=ctx.clock.now(), actor_id=principal.user_id,
                                actor_label=principal.label)
    return RedirectResponse("/audit?signed=1", status_code=303)


def _proof_blob(entry: AuditEntry, cp: AuditCheckpoint | None, db: Db, ctx: Ctx) -> dict[str, Any]:
    """Return everything ``audit-verify.js`` needs to check the entry against the checkpoint (A3)."""
    blob: dict[str, Any] = {
        "seq": entry.seq,
        "leaf_b64": _b64(entry.leaf),
        "leaf_hash_hex": entry.leaf_hash.hex(),
        "public_key_b64": _key_facts(ctx)["raw_b64"],
        "checkpoint": None,
        "proof": None,
    }
    if cp is not None:
        blob["checkpoint"] = {"tree_size": cp.tree_size, "root_hex": cp.root.hex(), "note": cp.note,
                              "signature_b64": _b64(cp.signature), "key_id": cp.key_id}
        if entry.seq < cp.tree_size:
            blob["proof"] = [h.hex() for h in audit.inclusion_proof_for(db, entry.seq, cp.tree_size)]
    return blob


def _script_json(value: Any) -> Markup:
    """Return JSON safe to place inside <script type="application/json"> (data only; the CSP forbids inline code)."""
    text = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


@router.get("/audit/entries/{seq}", response_class=HTMLResponse)
def audit_entry(seq: int, request: Request, principal: PageUser, ctx: Ctx, db: Db) -> HTMLResponse:
    """Show one entry and its inclusion proof; entries the viewer may not see answer 404 (I7)."""
    entry = audit.get_entry(db, seq) if seq >= 0 else None
    require_visible(entry is not None and policy.can_read_audit_entry(principal, entry.actor_id), "audit entry")
    assert entry is not None
    cp = audit.latest_checkpoint(db)
    blob = _proof_blob(entry, cp, db, ctx)
    named = reading.name_entry(db, directory_of(ctx), principal, entry, locale=translator_for(request).locale)
    return render(request, "audit_entry.html", {
        "entry": entry,
        "named": named,
        "data_json": json.dumps(entry.data, ensure_ascii=False, indent=2, sort_keys=True),
        "checkpoint": _checkpoint_facts(cp, ctx),
        "covered": blob["proof"] is not None,
        "proof": blob["proof"] or [],
        "proof_json": _script_json(blob),
        "key": _key_facts(ctx),
        "interval": ctx.settings.checkpoint_interval_seconds,
    })

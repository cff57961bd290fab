"""HTML pages of the audit log: the latest signed checkpoint, entries, and proofs checked in the browser."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from banso.audit import checkpoints
from banso.audit import service as audit
from banso.audit.models import AuditCheckpoint, AuditEntry
from banso.authz.guard import require, require_visible
from banso.authz.permissions import Permission
from banso.authz.policies import accounts as policy
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25


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


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    db: Db,
    before: int | None = Query(None, ge=0),
    signed: int | None = None,
) -> HTMLResponse:
    """Show the latest signed checkpoint and the entries the viewer may see, newest first."""
    require(principal, Permission.AUDIT_CHECKPOINT_READ)
    actor = policy.audit_entry_filter_actor(principal)  # None: auditors and admins see every entry
    rows = audit.list_entries(db, actor_id=actor, before=before, limit=PAGE_SIZE + 1)
    cp = audit.latest_checkpoint(db)
    return render(request, "audit.html", {
        "entries": rows[:PAGE_SIZE],
        "older": rows[PAGE_SIZE - 1].seq if len(rows) > PAGE_SIZE else None,
        "before": before,
        "checkpoint": _checkpoint_facts(cp, ctx),
        "key": _key_facts(ctx),
        "tree_size": audit.tree_size(db),
        "sees_all": actor is None,
        "may_sign": principal.has(Permission.AUDIT_CHECKPOINT_SIGN),
        "interval": ctx.settings.checkpoint_interval_seconds,
        "signed": bool(signed),
    })


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
    return render(request, "audit_entry.html", {
        "entry": entry,
        "data_json": json.dumps(entry.data, ensure_ascii=False, indent=2, sort_keys=True),
        "checkpoint": _checkpoint_facts(cp, ctx),
        "covered": blob["proof"] is not None,
        "proof": blob["proof"] or [],
        "proof_json": _script_json(blob),
        "key": _key_facts(ctx),
        "interval": ctx.settings.checkpoint_interval_seconds,
    })

"""Council, commission and proposal keys across domains: rotation, status, moving file keys into an HSM (I11, O2).

The composition root is the one place that knows every column holding a wrapped data key, so the
inventory lives here (:data:`COLUMNS`); the re-wrapping itself is ``banso.sealed.rotation``.

A rotation of one scope (a council, a commission, or a proposal's research-plan documents):

1. a new key version is created; from now on every process wraps new data keys with it;
2. a grace period lets requests that wrapped with the old version before step 1 commit;
3. one unit of work re-wraps every older data key of the scope and records ``sealed:key:rotate``;
   passes repeat until one finds nothing left (a straggler committed meanwhile is caught here);
4. one unit of work records ``sealed:key:retire`` with the versions about to be destroyed — before
   destroying them, so that a restore never brings back a key the log says is gone (O2);
5. the old versions are destroyed in the key store.

Nothing is destroyed while a row still needs an old version: a damaged row stops the rotation at
step 4 with the rows named, and running the command again finishes the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import sqlalchemy as sa

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.councils.models import (
    Council,
    Decision,
    MaterialFile,
    MaterialRequest,
    Meeting,
    MeetingMaterial,
    MinutesConfirmation,
    OralStatement,
)
from banso.information.models import ExclusionClaim, Item
from banso.kit.errors import Conflict, NotFound
from banso.kit.unit import unit_of_work
from banso.programme.models import Commission, CommissionDeliverable, PlanDocument, Proposal
from banso.sealed import store as sealed
from banso.sealed.crypto import KeyStore, LocalKeyFileStore
from banso.sealed.pkcs11 import Pkcs11KeyStore
from banso.sealed.rotation import WrappedColumn, rewrap, versions_in_use
from banso.web.context import AppContext

ACTOR: Final = "operator:banso-keys"
_MAX_PASSES: Final = 5


def _column(kind: str, model: type, value: str, owner: str, *, joined: type | None = None,
            on: tuple[str, str] | None = None, text: bool = False) -> WrappedColumn:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    source: sa.FromClause = table
    owner_table = table
    if joined is not None and on is not None:
        owner_table = joined.__table__  # type: ignore[attr-defined]
        source = table.join(owner_table, table.c[on[0]] == owner_table.c[on[1]])
    return WrappedColumn(name=f"{table.name}.{value}", scope_kind=kind, table=table, key=table.c.id,
                         value=table.c[value], owner=owner_table.c[owner], source=source, sealed_text=text)


def _columns() -> list[WrappedColumn]:
    return [
        # Items: one data key per item seals its bodies, files and indicators (banso.information.content).
        _column("council", Item, "wrapped_key", "council_id"),
        _column("council", MaterialFile, "wrapped_key", "council_id", joined=MaterialRequest, on=("request_id", "id")),
        _column("council", MaterialRequest, "answer_sealed", "council_id", text=True),
        _column("council", Meeting, "minutes_sealed", "council_id", text=True),
        _column("council", Decision, "text_sealed", "council_id", text=True),
        # Meetings as held (issue 13): materials' data keys and attendees' comments on circulated minutes.
        _column("council", MeetingMaterial, "wrapped_key", "council_id", joined=Meeting, on=("meeting_id", "id")),
        _column("council", MinutesConfirmation, "comment_sealed", "council_id", joined=Meeting, on=("meeting_id", "id"),
                text=True),
        # Confidentiality scope (issue 13): oral statements and their written designations; exclusion evidence.
        _column("council", OralStatement, "summary_sealed", "council_id", text=True),
        _column("council", OralStatement, "designation_sealed", "council_id", text=True),
        _column("council", ExclusionClaim, "evidence_sealed", "council_id", text=True),
        _column("council", ExclusionClaim, "file_wrapped_key", "council_id"),
        _column("commission", CommissionDeliverable, "wrapped_key", "commission_id"),
        # Research-plan documents (issue 15): one data key per document, wrapped by the proposal's key.
        _column("proposal", PlanDocument, "wrapped_key", "proposal_id"),
    ]


COLUMNS: Final = _columns()


Scope = sealed.Scope  # whose key: a council or a commission (one definition, in the sealed store)


@dataclass
class Rotation:
    """What rotating one scope did."""

    scope: Scope
    before: list[int]
    version: int | None = None  # the new version; None when the scope had no key to rotate
    rewrapped: dict[str, int] = field(default_factory=dict)
    retired: list[int] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Status:
    """A scope's key versions in the store and its wrapped keys by version."""

    scope: Scope
    held: list[int]
    in_use: dict[int, int]  # version → wrapped keys (0: damaged)


def key_store(ctx: AppContext, kind: str) -> KeyStore:
    """Return the context's key store of councils or commissions."""
    deps = sealed.sealed_deps(ctx)
    return sealed.key_store_of(deps, kind)


def columns_of(kind: str) -> list[WrappedColumn]:
    """Return the columns holding data keys wrapped by a council's or a commission's key."""
    return [c for c in COLUMNS if c.scope_kind == kind]


def all_scopes(ctx: AppContext) -> list[Scope]:
    """Return every council and commission, and every proposal that has sealed research-plan documents."""
    with unit_of_work(ctx.sessions) as session:
        councils = session.scalars(sa.select(Council.id).order_by(Council.id)).all()
        commissions = session.scalars(sa.select(Commission.id).order_by(Commission.id)).all()
        # A proposal without documents has no key: listing every proposal would only add empty rows.
        proposals = session.scalars(sa.select(PlanDocument.proposal_id).distinct().order_by(PlanDocument.proposal_id)).all()
    return ([Scope("council", i) for i in councils] + [Scope("commission", i) for i in commissions]
            + [Scope("proposal", i) for i in proposals])


def check_scope(ctx: AppContext, scope: Scope) -> None:
    """Raise NotFound unless the council, commission or proposal exists."""
    model: type = {"commission": Commission, "proposal": Proposal}.get(scope.kind, Council)
    with unit_of_work(ctx.sessions) as session:
        if session.get(model, scope.id) is None:
            raise NotFound(f"{scope.kind} {scope.id} が見つかりません / {scope.kind} {scope.id} not found")


def status(ctx: AppContext, scope: Scope) -> Status:
    """Return the scope's key versions and its wrapped keys counted by version."""
    held = key_store(ctx, scope.kind).versions(scope.id)
    with unit_of_work(ctx.sessions) as session:
        in_use = versions_in_use(session, columns_of(scope.kind), scope.id)
    return Status(scope, held, dict(sorted(in_use.items())))


def _rewrap_all(ctx: AppContext, scope: Scope, result: Rotation) -> None:
    keys, columns = key_store(ctx, scope.kind), columns_of(scope.kind)
    assert result.version is not None
    for round_ in range(_MAX_PASSES):
        with unit_of_work(ctx.sessions) as session:
            done = rewrap(session, keys, columns, scope.id, newest=result.version)
            if round_ == 0:  # A1: the rotation is on record with the re-wrap, or neither is
                audit.record(session, tag=AuditTag.SEALED_KEY_ROTATE, now=ctx.clock.now(), actor_label=ACTOR,
                             subject=scope.subject, data={"from": result.before, "to": result.version,
                                                          "rewrapped": dict(done.counts)})
        for name, count in done.counts.items():
            result.rewrapped[name] = result.rewrapped.get(name, 0) + count
        result.unreadable = done.unreadable
        if not done.total:
            return


def _retire(ctx: AppContext, scope: Scope, result: Rotation) -> None:
    keys = key_store(ctx, scope.kind)
    assert result.version is not None
    old = [v for v in keys.versions(scope.id) if v < result.version]
    with unit_of_work(ctx.sessions) as session:
        in_use = versions_in_use(session, columns_of(scope.kind), scope.id)
        still = sorted(v for v in in_use if v in old)
        if still or result.unreadable:
            raise Conflict(
                f"{scope.subject}: 古い鍵を必要とするデータが残っているため破棄しません / old key versions kept: "
                f"rows still need versions {still} or could not be re-wrapped: {'; '.join(result.unreadable)}")
        if old:  # O2: recorded before the keys are destroyed, so a restore honours it
            audit.record(session, tag=AuditTag.SEALED_KEY_RETIRE, now=ctx.clock.now(), actor_label=ACTOR,
                         subject=scope.subject, data={"versions": old, "newest": result.version})
    for version in old:
        keys.retire_version(scope.id, version)
    result.retired = old


def rotate(ctx: AppContext, scope: Scope, *, grace_seconds: float = 5.0,
           sleep: Callable[[float], None] = time.sleep) -> Rotation:
    """Rotate one scope's key: new version, every data key re-wrapped, old versions destroyed (audited)."""
    keys = key_store(ctx, scope.kind)
    result = Rotation(scope=scope, before=keys.versions(scope.id))
    if not result.before:
        return result  # no key (nothing sealed yet) or revoked: nothing to rotate
    result.version = keys.add_version(scope.id)
    # Requests that read the old newest version just before it changed may still be committing.
    sleep(grace_seconds)
    _rewrap_all(ctx, scope, result)
    _retire(ctx, scope, result)
    return result


# ---------------------------------------------------------------------------------------------
# Moving file keys into the HSM


@dataclass
class Migration:
    """What moving one key folder into the HSM did."""

    kind: str
    imported: list[tuple[int, int]] = field(default_factory=list)  # (id, version)
    revoked: list[int] = field(default_factory=list)
    removed: int = 0


def destroy(ctx: AppContext, scope: Scope) -> None:
    """Destroy the scope's key for good (crypto-shredding, I11), recorded first so a restore keeps it destroyed (O2)."""
    check_scope(ctx, scope)
    with unit_of_work(ctx.sessions) as session:
        sealed.destroy_key(session, sealed.sealed_deps(ctx), scope, actor=None, now=ctx.clock.now())


def migrate_to_pkcs11(ctx: AppContext, *, remove_files: bool) -> list[Migration]:
    """Import every key file under data_dir/keys into the HSM the settings name, as non-extractable keys.

    Tombstones become HSM tombstones. ``remove_files`` shreds each key file once its key is in the token.
    """
    data_dir = ctx.settings.data_dir
    results = []
    for kind, folder in (("council", "councils"), ("commission", "commissions"), ("proposal", "proposals")):
        target = key_store(ctx, kind)
        if not isinstance(target, Pkcs11KeyStore):
            raise Conflict("BANSO_KEY_STORE=pkcs11 と HSM の設定が必要です / set BANSO_KEY_STORE=pkcs11 and the "
                           "BANSO_PKCS11_* settings first")
        files = LocalKeyFileStore(data_dir / "keys" / folder, prefix=kind)
        results.append(_migrate_folder(ctx, files, target, kind, remove_files=remove_files))
    return results


def _migrate_folder(ctx: AppContext, files: LocalKeyFileStore, target: Pkcs11KeyStore, kind: str, *,
                    remove_files: bool) -> Migration:
    done = Migration(kind)
    for scope_id in files.revoked_ids():
        target.revoke(scope_id)
        done.revoked.append(scope_id)
    for scope_id, versions in files.held().items():
        for version in versions:
            target.import_key(scope_id, version, files.read_key(scope_id, version))
            done.imported.append((scope_id, version))
    with unit_of_work(ctx.sessions) as session:
        audit.record(session, tag=AuditTag.SEALED_KEY_MIGRATE, now=ctx.clock.now(), actor_label=ACTOR,
                     subject=f"{kind}:*", data={"to": "pkcs11", "imported": [list(k) for k in done.imported],
                                                "revoked": done.revoked})
    if remove_files:
        for scope_id, version in done.imported:
            files.shred(scope_id, version)
            done.removed += 1
    return done

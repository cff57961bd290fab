"""Full-text search over information items, good for Japanese, and filtered by the access policy (I7).

What is indexed
    One :class:`~banso.information.search_models.SearchDoc` per item: title, summary, file names
    and — only while the item is council-shared, scheduled, withheld or public — the decrypted
    current body. Held and designated items are indexed by title and summary only, so designated
    full text is never kept in plaintext at rest (I11: bodies are encrypted; an index of them
    would undo that). Title and summary are what voters see anyway (I4); they are stored in
    plaintext on ``info_items`` already. The text is normalised with NFKC and ``casefold`` (so
    ｱｲｳ/アイウ, ＡＢＣ/abc and full-/half-width digits match) and runs of white space become one
    space. :func:`refresh` rebuilds an item's document; the service calls it after creation, a new
    version and every state change.

How it matches (substring semantics on both databases — Japanese has no spaces to split words on)
    * SQLite: an FTS5 table with the ``trigram`` tokenizer (migration 0008) mirrors the documents
      through triggers. Queries of three characters or more run ``MATCH`` with the query quoted as
      one phrase (double quotes doubled), so user input cannot inject FTS syntax (``OR``,
      ``NEAR(``, ``*``, column filters); a trigram phrase is a substring match. Shorter queries
      cannot form a trigram and use ``LIKE`` on the documents table.
    * PostgreSQL: ``ILIKE '%q%'`` on the documents table, with a pg_trgm GIN index
      (``gin_trgm_ops``) on it; never ``similarity`` or ``%``, which rank rather than find
      substrings. pg_trgm takes trigrams only from characters the database's ctype locale calls
      alphanumeric. Checked on PostgreSQL 15: under ``C.UTF-8`` (what scripts/test.sh creates)
      ``show_trgm('航法アルゴリズム')`` gives 9 trigrams and ``ILIKE '%航法アル%'`` is a bitmap index
      scan returning just the matches; under the plain ``C`` locale it gives none, the index returns
      every row and the recheck filters them — the same, correct answer, only slower. So we chose
      plain ``ILIKE`` (correct under every locale) and let the index speed it up where it can;
      the tests pass on both locales. Queries under three characters cannot use trigrams and scan.

Access
    Results always pass through :func:`banso.authz.policies.information.restrict_items`: an
    out-of-scope user never gets a designated item, whatever the query (I7). Searches by a
    signed-in user are audited with the query length, the hit count and the ids of non-public
    hits — never the query text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Float, Integer, Select, column, select, table, text
from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz import gate
from banso.authz.policies import information as policy
from banso.authz.principal import Principal
from banso.information import content
from banso.information.deps import InformationDeps
from banso.information.models import Item, ItemFile, ItemState
from banso.information.search_models import SearchDoc
from banso.kit.clock import SystemClock
from banso.kit.errors import ValidationFailed
from banso.kit.text import forbidden_character, forbidden_character_message
from banso.sealed.crypto import KeyUnavailable, TamperedCiphertext

# I11: only content readable council-wide (or public) has its body indexed; see the module docstring.
BODY_INDEXED = frozenset({ItemState.COUNCIL, ItemState.SCHEDULED, ItemState.WITHHELD, ItemState.PUBLIC})
MIN_TRIGRAM = 3
MAX_QUERY = 200
MAX_LIMIT = 200
SNIPPET_RADIUS = 40

_SPACE = re.compile(r"\s+")
_FTS = table("info_search_fts", column("rowid", Integer), column("rank", Float))


@dataclass(frozen=True)
class SearchHit:
    """One item found, with a short piece of text around the first match."""

    item: Item
    snippet: str


def normalise(value: str) -> str:
    """Return ``value`` as search compares it: NFKC, case-folded, white space collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def _document(parts: Sequence[str]) -> str:
    return normalise(" ".join(p for p in parts if p))


def refresh(session: Session, deps: InformationDeps | None, item: Item, *, now: datetime | None = None) -> None:
    """Rebuild ``item``'s search document from its current title, summary, files and (if allowed) body.

    Without ``deps`` (no key store at hand) only the safe direction is taken: a document is rebuilt
    without the body when the item became held or designated; otherwise it is left for the next
    refresh with keys.
    """
    if deps is None and item.state in BODY_INDEXED and session.get(SearchDoc, item.id) is not None:
        return
    parts = [item.title, item.summary]
    if item.state in BODY_INDEXED and deps is not None:
        try:
            parts.append(content.body_of(session, deps, item, actor=None, now=now or item.updated_at))
        except (KeyUnavailable, TamperedCiphertext):
            pass  # already audited by the service; index what can be read rather than block the change
    file_range = gate.access_for(session, None, item).file_range
    hidden = file_range.file_ids if file_range is not None else frozenset()
    stmt = select(ItemFile.id, ItemFile.filename).where(ItemFile.item_id == item.id)
    if item.state == ItemState.PUBLIC:  # I13: an earlier version of a public item stays council-only
        stmt = stmt.where(ItemFile.version == item.current_version)
    rows = session.execute(stmt.order_by(ItemFile.id)).all()
    # Names of files under a partial designation stay out: the item is found by people outside its scope.
    parts.extend(dict.fromkeys(name for file_id, name in rows if file_id not in hidden))
    doc = _document(parts)
    when = now or item.updated_at
    row = session.get(SearchDoc, item.id)
    if row is None:
        session.add(SearchDoc(item_id=item.id, doc=doc, updated_at=when))
    elif row.doc != doc:
        row.doc = doc
        row.updated_at = when
    session.flush()


def reindex(session: Session, deps: InformationDeps) -> int:
    """Rebuild every item's search document (after an upgrade or a restore); return how many."""
    count = 0
    for item in session.scalars(select(Item).order_by(Item.id)):
        refresh(session, deps, item)
        count += 1
    return count


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(query: str) -> str:
    """Quote ``query`` as one FTS5 phrase: nothing inside is read as syntax."""
    return '"' + query.replace('"', '""') + '"'


def _snippet(text_: str, query: str) -> str:
    at = text_.find(query)
    if at < 0:
        return text_[: 2 * SNIPPET_RADIUS] + ("…" if len(text_) > 2 * SNIPPET_RADIUS else "")
    start = max(0, at - SNIPPET_RADIUS)
    end = min(len(text_), at + len(query) + SNIPPET_RADIUS)
    return ("…" if start > 0 else "") + text_[start:end] + ("…" if end < len(text_) else "")


def snippet_for(item: Item, doc: str, query: str) -> str:
    """Return the text around the first match; held/designated items show title and summary only."""
    if item.state in BODY_INDEXED:
        return _snippet(doc, query)
    return _snippet(_document([item.title, item.summary]), query)


def search_items(session: Session, *, actor: Principal | None, query: str, council_id: int | None = None,
                 limit: int = 50, now: datetime | None = None) -> list[SearchHit]:
    """Return the items ``actor`` may read whose text contains ``query`` (best or newest first).

    ``now`` stamps the audit entry (callers pass their clock; the system clock otherwise).
    """
    q = normalise(query)
    if not q:
        raise ValidationFailed("検索語を入力してください / enter a search term", field="query")
    if len(q) > MAX_QUERY:
        raise ValidationFailed(f"検索語は {MAX_QUERY} 文字以内で入力してください / the search term must be at most {MAX_QUERY} characters", field="query")
    bad = forbidden_character(q)
    if bad is not None:  # O1: NUL breaks SQLite's FTS and PostgreSQL text; no control character is searched for
        raise ValidationFailed(forbidden_character_message("query", bad), field="query")
    limit = max(1, min(int(limit), MAX_LIMIT))
    # One typed shape for restrict_items (it only adds WHERE clauses on Item).
    stmt = cast("Select[Any]", select(Item, SearchDoc.doc).join(SearchDoc, SearchDoc.item_id == Item.id))
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and len(q) >= MIN_TRIGRAM:
        matched = (select(_FTS.c.rowid.label("item_id"), _FTS.c.rank.label("rank"))
                   .where(text("info_search_fts MATCH :fts_query").bindparams(fts_query=_phrase(q)))
                   .subquery("matched"))
        stmt = stmt.join(matched, matched.c.item_id == Item.id).order_by(matched.c.rank, Item.id.desc())
    elif dialect == "postgresql":
        stmt = stmt.where(SearchDoc.doc.ilike(_like_pattern(q), escape="\\")).order_by(Item.id.desc())
    else:
        stmt = stmt.where(SearchDoc.doc.like(_like_pattern(q), escape="\\")).order_by(Item.id.desc())
    if council_id is not None:
        stmt = stmt.where(Item.council_id == council_id)
    stmt = policy.restrict_items(stmt, actor)  # I7: the one rule, in SQL
    hits: list[SearchHit] = []
    for row in session.execute(stmt.limit(limit)):
        item: Item = row[0]
        doc: str = row[1]
        hits.append(SearchHit(item=item, snippet=snippet_for(item, doc, q)))
    if actor is not None:
        audit.record(session, tag=AuditTag.INFO_SEARCH, now=now or SystemClock().now(), actor_id=actor.user_id,
                     actor_label=actor.label, subject=f"council:{council_id}" if council_id else "information:search",
                     data={"query_length": len(q), "hits": len(hits), "council_id": council_id,
                           "item_ids": [h.item.id for h in hits if h.item.state != ItemState.PUBLIC]})
    return hits

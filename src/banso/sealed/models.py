"""The distribution record of sealed council content other than items (I8, I12).

``info_distributions`` records copies of information items; ``sealed_distributions`` is its sibling
for everything else a council (or a commission) holds sealed: material-request answer files and
answer texts, commission deliverables, minutes and decisions. Both feed attribution
(``banso.information.distribution.attribute``), so a leaked copy of either kind names its recipient.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base


class SealedKind(StrEnum):
    """What a sealed copy is a copy of."""

    MATERIAL_FILE = "material_file"  # a file of a material request's answer (C6)
    DELIVERABLE = "deliverable"  # a commission deliverable (F5)
    MINUTES = "minutes"  # a meeting's minutes (C5)
    DECISION = "decision"  # a decision's text (C5)
    MEETING_MATERIAL = "meeting_material"  # a meeting material (配布資料, C5)
    EXCLUSION_EVIDENCE = "exclusion_evidence"  # the evidence file of an exclusion claim (秘密情報の除外, issue 13)
    PLAN_DOCUMENT = "plan_document"  # a proposal's research-plan document (研究提案書・様式, F6; no council yet)


class SealedDistribution(Base):
    """One stamped copy of sealed content handed to one recipient (I8)."""

    __tablename__ = "sealed_distributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)  # id of the row of ``kind``
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"), index=True)
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("programme_commissions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    fingerprint: Mapped[str] = mapped_column(String(16), unique=True)  # 64-bit code, hex
    channel: Mapped[str] = mapped_column(String(16))  # pdf / office / image / text / csv / raw
    created_at: Mapped[datetime]

    @property
    def subject(self) -> str:
        """Return the audit subject of the copied object, e.g. ``material_file:7``."""
        return f"{self.kind}:{self.object_id}"

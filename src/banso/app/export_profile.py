"""Recording a person's export profile (nationality, foreign affiliation; DESIGN F7) over the API.

The route lives in the composition root because it spans two layers: the profile is an account fact
(``accounts.service.set_export_profile``), and a member who becomes foreign is held at once from the classified
items of their councils, so a deemed-export check must be opened there and the officers told, as on a join
(``councils.export_control.request_for_person``) — else nobody could ever clear them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from banso.accounts import service as accounts
from banso.accounts.schemas import ExportProfile
from banso.authz.permissions import Permission
from banso.councils import export_control
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db, requires

router = APIRouter(tags=["accounts"], dependencies=[Depends(verify_csrf)])


@router.put("/users/{user_id}/export-profile", response_model=ExportProfile,
            dependencies=[requires(Permission.USER_MANAGE)])
def set_export_profile(user_id: int, body: ExportProfile, principal: ApiUser, db: Db, ctx: Ctx) -> ExportProfile:
    """Record a person's nationality and foreign affiliation (admin; F7 deemed export), and open a check in each
    council holding classified items that they are a member of."""
    now = ctx.clock.now()
    user = accounts.set_export_profile(db, user_id=user_id, nationality=body.nationality,
                                       foreign_affiliation=body.foreign_affiliation, actor=principal, now=now)
    export_control.request_for_person(db, user.id, now=now, actor=principal)
    return ExportProfile.model_validate(user)

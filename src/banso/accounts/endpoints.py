"""JSON API of the accounts domain (``/api/v1``); every route declares its permission (``requires``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from banso.accounts import repository as repo
from banso.accounts import service
from banso.accounts.schemas import (
    MeRead,
    OrganizationCreate,
    OrganizationRead,
    RolesUpdate,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
)
from banso.authz.guard import require, require_visible
from banso.authz.permissions import Permission
from banso.authz.policies import accounts as policy
from banso.kit.errors import NotFound
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db, requires

router = APIRouter(tags=["accounts"], dependencies=[Depends(verify_csrf)])


@router.get("/me", response_model=MeRead, dependencies=[requires(Permission.DASHBOARD_VIEW)])
def me(principal: ApiUser, db: Db) -> MeRead:
    """Return the caller and their permissions in force."""
    user = repo.user_by_id(db, principal.user_id)
    if user is None:
        raise NotFound("利用者が見つかりません / user not found")
    return MeRead(
        user=UserRead.model_validate(user),
        organization=OrganizationRead.model_validate(user.organization),
        permissions=sorted(p.value for p in principal.permissions),
        auth_method=principal.method.value,
    )


@router.get("/organizations", response_model=list[OrganizationRead], dependencies=[requires(Permission.DASHBOARD_VIEW)])
def list_organizations(principal: ApiUser, db: Db) -> list[OrganizationRead]:
    """List organisations (every signed-in participant may see who takes part)."""
    return [OrganizationRead.model_validate(o) for o in repo.list_orgs(db)]


@router.post("/organizations", response_model=OrganizationRead, status_code=status.HTTP_201_CREATED,
             dependencies=[requires(Permission.ORG_MANAGE)])
def create_organization(body: OrganizationCreate, principal: ApiUser, db: Db, ctx: Ctx) -> OrganizationRead:
    """Create an organisation (admin)."""
    org = service.create_organization(db, **body.model_dump(), now=ctx.clock.now(), actor=principal)
    return OrganizationRead.model_validate(org)


@router.get("/users", response_model=list[UserRead], dependencies=[requires(Permission.USER_READ)])
def list_users(principal: ApiUser, db: Db) -> list[UserRead]:
    """List people (directory readers only)."""
    require(principal, Permission.USER_READ)
    return [UserRead.model_validate(u) for u in repo.list_users(db)]


@router.get("/users/{user_id}", response_model=UserRead, dependencies=[requires(Permission.DASHBOARD_VIEW)])
def get_user(user_id: int, principal: ApiUser, db: Db) -> UserRead:
    """Return one person; people outside the caller's view answer 404."""
    user = repo.user_by_id(db, user_id)
    require_visible(user is not None and policy.can_view_user(principal, user_id), "user")
    return UserRead.model_validate(user)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED,
             dependencies=[requires(Permission.USER_MANAGE)])
def create_user(body: UserCreate, principal: ApiUser, db: Db, ctx: Ctx) -> UserRead:
    """Create a person (admin)."""
    user = service.create_user(db, **body.model_dump(), now=ctx.clock.now(), actor=principal)
    return UserRead.model_validate(user)


@router.put("/users/{user_id}/roles", response_model=UserRead, dependencies=[requires(Permission.ROLE_MANAGE)])
def set_roles(user_id: int, body: RolesUpdate, principal: ApiUser, db: Db, ctx: Ctx) -> UserRead:
    """Replace a person's platform roles (admin)."""
    user = service.set_roles(db, user_id=user_id, roles=body.roles, actor=principal, now=ctx.clock.now())
    return UserRead.model_validate(user)


@router.get("/tokens", response_model=list[TokenRead], dependencies=[requires(Permission.TOKEN_ISSUE_OWN)])
def list_tokens(principal: ApiUser, db: Db) -> list[TokenRead]:
    """List the caller's API tokens."""
    return [TokenRead.model_validate(t) for t in service.list_tokens(db, actor=principal)]


@router.post("/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED,
             dependencies=[requires(Permission.TOKEN_ISSUE_OWN)])
def issue_token(body: TokenCreate, principal: ApiUser, db: Db, ctx: Ctx, request: Request) -> TokenIssued:
    """Issue an API token for the caller; scopes may only narrow the caller's rights."""
    user = repo.user_by_id(db, principal.user_id)
    if user is None:
        raise NotFound("利用者が見つかりません / user not found")
    issued = service.issue_token(
        db, user=user, name=body.name, scopes=body.scopes, expires_in_days=body.expires_in_days,
        now=ctx.clock.now(), actor=principal, max_days=ctx.settings.token_max_lifetime_days,
    )
    return TokenIssued(token=issued.raw, **TokenRead.model_validate(issued.record).model_dump())


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT,
               dependencies=[requires(Permission.TOKEN_ISSUE_OWN, Permission.TOKEN_MANAGE_ANY)])
def revoke_token(token_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> None:
    """Revoke one of the caller's tokens (admins: any token)."""
    service.revoke_token(db, token_id=token_id, actor=principal, now=ctx.clock.now())

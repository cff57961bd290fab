"""API shapes of the accounts domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class OrganizationRead(BaseModel):
    """An organisation as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name_ja: str
    name_en: str
    kind: str
    short_name: str | None


class OrganizationCreate(BaseModel):
    """Input to create an organisation."""

    model_config = ConfigDict(extra="forbid")

    name_ja: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    kind: str
    short_name: str | None = Field(default=None, max_length=50)


class UserRead(BaseModel):
    """A person as the API shows them (never secrets)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name_ja: str
    name_en: str
    organization_id: int
    roles: list[str]
    is_active: bool
    totp_enabled: bool
    researcher_number: str | None


class UserCreate(BaseModel):
    """Input to create a person (admin)."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    name_ja: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    organization_id: int
    roles: list[str] = Field(default_factory=list)
    password: str = Field(min_length=1, max_length=1024)
    researcher_number: str | None = Field(default=None, max_length=20)


class RolesUpdate(BaseModel):
    """Input to replace a person's roles."""

    model_config = ConfigDict(extra="forbid")

    roles: list[str]


class MeRead(BaseModel):
    """The caller, with the permissions in force for this request."""

    user: UserRead
    organization: OrganizationRead
    permissions: list[str]
    auth_method: str


class TokenCreate(BaseModel):
    """Input to issue an API token for oneself."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="api", min_length=1, max_length=100)
    scopes: list[str] | None = None
    # None (or absent): the platform's maximum lifetime; more than the maximum is refused with a reason.
    expires_in_days: int | None = Field(default=None, ge=1)


class TokenRead(BaseModel):
    """An API token's metadata (the secret is never shown again)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str] | None
    second_factor: bool  # I7: whether requests made with it count as second-factor authenticated
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenRead):
    """A freshly issued token, with its secret (shown once)."""

    token: str


class ExportProfile(BaseModel):
    """A person's nationality (ISO 3166-1 alpha-2; null = not recorded) and foreign affiliation (F7)."""

    model_config = ConfigDict(from_attributes=True)

    nationality: str | None = Field(default=None, max_length=8)
    foreign_affiliation: str | None = Field(default=None, max_length=200)

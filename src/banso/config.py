"""Settings: the one place that reads the environment (prefix ``BANSO_``).

Every other module receives a :class:`Settings` instance (or values taken from it);
nothing else reads ``os.environ``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that ship in the repository. Outside demo/development mode they are refused,
# so a production deployment cannot start with a secret anyone can read on GitHub.
DEFAULT_SECRET_KEY = "banso-insecure-development-secret-key-change-me"
# API tokens live at most this many days; a token issued without an expiry gets exactly this.
DEFAULT_TOKEN_MAX_LIFETIME_DAYS = 90


class Mode(StrEnum):
    """Where banso runs; only ``production`` enforces real secrets."""

    DEMO = "demo"
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class InsecureSettingsError(ValueError):
    """Raised when production settings keep a default secret."""


# Single sign-on (O3): which ``amr`` values (RFC 8176) count as a second factor asserted by the provider.
DEFAULT_MFA_AMR = ("mfa", "otp", "hwk", "swk")


class OidcProvider(BaseModel):
    """One OpenID Connect provider banso accepts for single sign-on (GビズID, a ministry's IdP, ...)."""

    name: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
                      description="Short id used in /login/sso?provider=NAME.")
    label: str | None = Field(default=None, max_length=100, description="Button text; default 「GビズID / 組織のIDでログイン」.")
    issuer: str = Field(min_length=8, max_length=500, description="Issuer URL exactly as its discovery document says.")
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: SecretStr | None = Field(default=None, description="Unset: a public client (PKCE only).")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    mfa_amr: list[str] = Field(default_factory=lambda: list(DEFAULT_MFA_AMR),
                               description="amr values that count as a second factor (I7).")
    mfa_acr: list[str] = Field(default_factory=list, description="acr values that count as a second factor (I7).")
    create_accounts: bool = Field(default=False, description="Create an account on first login (default: link only).")
    new_account_organization_id: int | None = Field(
        default=None, description="Organisation of accounts created on first login (required with create_accounts)."
    )

    @model_validator(mode="after")
    def _coherent(self) -> OidcProvider:
        if "openid" not in self.scopes:
            raise ValueError("OIDC scopes must include 'openid'")
        if self.create_accounts and self.new_account_organization_id is None:
            raise ValueError("create_accounts needs new_account_organization_id")
        return self


class Settings(BaseSettings):
    """banso configuration, read from ``BANSO_*`` environment variables (or a ``.env`` file)."""

    model_config = SettingsConfigDict(env_prefix="BANSO_", env_file=".env", extra="ignore")

    mode: Mode = Mode.DEVELOPMENT
    data_dir: Path = Field(default=Path("banso-data"), description="Folder for the database, keys and files.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite (WAL) in data_dir/banso.db."
    )
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, min_length=32)
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "ja"
    timezone: str = "Asia/Tokyo"

    # Sessions and login throttling
    session_max_age_seconds: int = 8 * 3600
    session_idle_seconds: int = 2 * 3600
    cookie_secure: bool | None = Field(default=None, description="Secure cookies; default on in production.")
    login_max_failures: int = 5
    login_lockout_seconds: int = 15 * 60
    token_max_lifetime_days: int = Field(
        default=DEFAULT_TOKEN_MAX_LIFETIME_DAYS, ge=1, le=366,
        description="Longest life of an API token; a blank expiry means this, never 'never'.",
    )
    max_body_bytes: int = 2 * 1024 * 1024
    # Requests served at once; keep it below AnyIO's 40 worker threads (see web.middleware.ConcurrencyLimit).
    max_concurrent_requests: int = Field(default=24, ge=1, le=39)
    # O4: a body is read before its request is admitted; after the grace it must arrive at this rate.
    body_grace_seconds: float = Field(default=10.0, gt=0, description="Time any request body may take at first.")
    body_min_bytes_per_second: int = Field(
        default=1024, ge=1, description="After the grace, the average rate a body must keep (else 408).")
    # O4: per-client token buckets (a credential, else the address); 0 turns a limit off.
    rate_limit_per_second: float = Field(default=50.0, ge=0, description="Requests a second per token/session.")
    rate_limit_burst: int = Field(default=500, ge=1, description="Requests at once per token/session.")
    rate_limit_anonymous_per_second: float = Field(
        default=50.0, ge=0, description="Requests a second per address without credentials.")
    rate_limit_anonymous_burst: int = Field(default=500, ge=1, description="Requests at once per such address.")

    # Audit (A2): how often the running server signs a new checkpoint when the log has grown
    checkpoint_interval_seconds: int = 60
    audit_key_path: Path | None = Field(
        default=None, description="Ed25519 signing key (PEM); default data_dir/keys/audit-ed25519.pem."
    )

    # Outgoing e-mail (notifications). Without a host, e-mails are written to data_dir/outbox as .eml files.
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: write .eml files to data_dir/outbox.")
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "banso <noreply@localhost>"

    # Single sign-on by OpenID Connect (O3). One provider from the flat oidc_* settings, more as a JSON
    # list in BANSO_OIDC_PROVIDERS; unset issuer and empty list: local accounts only.
    oidc_issuer: str | None = Field(default=None, description="Issuer URL of the single sign-on provider.")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_label: str | None = None
    oidc_scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    oidc_mfa_amr: list[str] = Field(default_factory=lambda: list(DEFAULT_MFA_AMR))
    oidc_mfa_acr: list[str] = Field(default_factory=list)
    oidc_create_accounts: bool = False
    oidc_new_account_organization_id: int | None = None
    oidc_providers: list[OidcProvider] = Field(default_factory=list, description="Further providers (JSON list).")
    oidc_redirect_base: str | None = Field(
        default=None, description="Public URL the provider redirects back to; default base_url."
    )
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed on ID tokens.")
    oidc_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    oidc_login_ttl_seconds: int = Field(default=600, ge=60, le=3600,
                                        description="How long a started single sign-on may take.")

    # Several workers, readiness and metrics (docs/operations.md)
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token that may read /metrics from anywhere (loopback needs none).")
    metrics_loopback: bool = Field(
        default=True, description="Serve /metrics to loopback clients without the token; turn off behind a local proxy.")
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=30,
                                             description="How long /readyz waits for the database.")
    # Not BANSO_*: prometheus_client reads the same variable. `banso serve` sets a fresh folder per start.
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"),
        description="Folder where each worker writes its metrics, so /metrics shows them all.")
    # Council and commission key-encryption keys (I11, O2): key files under data_dir/keys (the
    # embedded default) or objects in an HSM through PKCS#11 (docs/operations.md, "Keys in an HSM").
    key_store: Literal["file", "pkcs11"] = Field(
        default="file", description="Where council keys live: 'file' (data_dir/keys) or 'pkcs11' (an HSM).")
    pkcs11_library: str | None = Field(
        default=None, description="PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so (key_store=pkcs11).")
    pkcs11_token_label: str | None = Field(default=None, description="Label of the token holding the keys.")
    pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of that token.")
    pkcs11_label_prefix: str = Field(
        default="banso", pattern=r"^[A-Za-z0-9_.]{1,32}$",
        description="Prefix of the key objects' labels, so several deployments can share one token.")

    # Demo and end-to-end tests only: a file holding seconds to add to the real clock, so a running
    # server can be moved past a designation's end (I5) without waiting. Refused in production.
    clock_offset_file: Path | None = None

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.mode is Mode.PRODUCTION:
            if self.secret_key == DEFAULT_SECRET_KEY:
                raise InsecureSettingsError(
                    "BANSO_SECRET_KEY still has its development default; set a random value "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
                )
            if self.database_url is None:
                raise InsecureSettingsError("BANSO_DATABASE_URL must be set in production mode.")
            if self.clock_offset_file is not None:
                raise InsecureSettingsError("BANSO_CLOCK_OFFSET_FILE is for demos and tests; unset it in production.")
            insecure = [p.issuer for p in self.sso_providers if not p.issuer.startswith("https://")]
            if insecure:
                raise InsecureSettingsError(f"single sign-on issuers must use https in production: {insecure}")
        return self

    @model_validator(mode="after")
    def _coherent_sso(self) -> Settings:
        names = [p.name for p in self.sso_providers]
        if len(names) != len(set(names)):
            raise ValueError(f"single sign-on provider names must be unique: {names}")
        return self

    @property
    def sso_providers(self) -> list[OidcProvider]:
        """Return every configured single sign-on provider (the flat oidc_* one first)."""
        found = list(self.oidc_providers)
        if self.oidc_issuer:
            if not self.oidc_client_id:
                raise ValueError("BANSO_OIDC_CLIENT_ID is required with BANSO_OIDC_ISSUER")
            found.insert(0, OidcProvider(
                issuer=self.oidc_issuer, client_id=self.oidc_client_id, client_secret=self.oidc_client_secret,
                label=self.oidc_label, scopes=self.oidc_scopes, mfa_amr=self.oidc_mfa_amr, mfa_acr=self.oidc_mfa_acr,
                create_accounts=self.oidc_create_accounts,
                new_account_organization_id=self.oidc_new_account_organization_id,
            ))
        return found

    @property
    def sso_redirect_uri(self) -> str:
        """Return the redirect URI to register at every provider."""
        return (self.oidc_redirect_base or self.base_url).rstrip("/") + "/login/sso/callback"

    @model_validator(mode="after")
    def _require_pkcs11_settings(self) -> Settings:
        if self.key_store == "pkcs11":
            missing = [name for name in ("pkcs11_library", "pkcs11_token_label", "pkcs11_pin")
                       if getattr(self, name) is None]
            if missing:
                raise ValueError("BANSO_KEY_STORE=pkcs11 needs " + ", ".join(f"BANSO_{m.upper()}" for m in missing))
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """Return the database URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'banso.db').resolve()}"

    @property
    def signing_key_path(self) -> Path:
        """Return where the audit checkpoint key lives (outside the database, A2)."""
        return self.audit_key_path or self.data_dir / "keys" / "audit-ed25519.pem"

    @property
    def secure_cookies(self) -> bool:
        """Return whether cookies carry the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.mode is Mode.PRODUCTION

    @property
    def durable_writes(self) -> bool:
        """Return True when every commit must survive a power loss (SQLite ``synchronous=FULL``)."""
        return self.mode is Mode.PRODUCTION

    @property
    def is_demo(self) -> bool:
        """Return True in demo mode (demo TOTP secrets may be printed)."""
        return self.mode is Mode.DEMO


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()

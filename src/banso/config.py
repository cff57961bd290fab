"""Settings: the one place that reads the environment (prefix ``BANSO_``).

Every other module receives a :class:`Settings` instance (or values taken from it);
nothing else reads ``os.environ``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
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
    def _refuse_default_secrets(self) -> "Settings":
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
        return self

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
    def is_demo(self) -> bool:
        """Return True in demo mode (demo TOTP secrets may be printed)."""
        return self.mode is Mode.DEMO


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()

"""Settings, read from `REGISTRE_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PG_PORT = 5433
DEFAULT_TEMPORAL_PORT = 7233


class Settings(BaseSettings):
    """Where Registre finds its servers and keys. Defaults describe the embedded stack."""

    model_config = SettingsConfigDict(env_prefix="REGISTRE_")

    var_dir: Path = Path("var")
    postgres_url: str = f"postgresql://postgres@127.0.0.1:{DEFAULT_PG_PORT}/registre"
    temporal_address: str = f"127.0.0.1:{DEFAULT_TEMPORAL_PORT}"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    task_queue: str = "registre"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    jwt_secret: str | None = Field(
        default=None, description="HMAC key of the local token issuer; else var/jwt-secret"
    )
    config_file: Path = Path("deploy/metropolises.yaml")
    ledger_key_file: Path | None = Field(
        default=None, description="the ledger's signing key (note skey); else var/keys/ledger.skey")
    witness_key_file: Path | None = Field(
        default=None, description="the guarantor witness' public key (note vkey, cosignature/v1); "
        "else var/keys/witness.vkey when present")
    checkpoint_interval: float = Field(
        default=30.0, description="seconds between automatic checkpoints when the log grew")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=0,
        description="largest request body accepted (413 above it, before anything is read "
                    "further, authenticated or parsed)")
    views_wait_seconds: float = Field(
        default=2.0, ge=0, le=30,
        description="how long a write asked with `Prefer: wait-for-views` waits for the views")

    @property
    def ledger_key_path(self) -> Path:
        return self.ledger_key_file or self.var_dir / "keys" / "ledger.skey"

    @property
    def witness_vkey_path(self) -> Path:
        return self.witness_key_file or self.var_dir / "keys" / "witness.vkey"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    def postgres_parts(self) -> dict[str, str]:
        """The PostgreSQL URL split into eventsourcing's POSTGRES_* settings."""
        url = urlparse(self.postgres_url)
        if url.scheme not in ("postgresql", "postgres") or not url.path.strip("/"):
            raise ValueError(f"not a postgresql://user@host:port/dbname URL: {self.postgres_url}")
        return {
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_DBNAME": url.path.strip("/"),
        }

    def signing_secret(self) -> str:
        """The local issuer's key: the setting, else var/jwt-secret (made on first use)."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.var_dir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

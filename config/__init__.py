"""Settings from the environment and `.env`; the defaults give the embedded stack on loopback."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob ContestFlow reads, each settable as CONTESTFLOW_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CONTESTFLOW_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".data"), description="Folder for the embedded stack's state")
    database_url: str = Field("", description="SQLAlchemy async URL; empty means SQLite in data_dir")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "contestflow"
    temporal_tls: bool = Field(False, description="TLS to the Temporal frontend (on by itself with a cert or API key)")
    temporal_tls_cert: str = Field("", description="Client certificate (PEM file) for mTLS to a Temporal cluster")
    temporal_tls_key: str = Field("", description="Its private key (PEM file)")
    temporal_api_key: str = Field("", description="API key for Temporal Cloud")
    temporal_connect_wait_seconds: float = Field(
        60.0, ge=0, description="How long a worker or the API starting waits for Temporal to answer before it exits"
    )
    temporal_ui_port: int = 8233
    temporal_ui_url: str = ""
    database_busy_timeout_seconds: float = Field(
        30.0, description="SQLite: how long a write waits for the single writer before it fails (and is retried)"
    )
    worker_max_activities: int = Field(0, description="Activities a worker runs at once; 0: 8 on SQLite, else 100")
    worker_cached_workflows: int = Field(
        2000, description="Workflows a worker keeps in memory; a task for one it dropped replays its whole history"
    )
    worker_sandbox: bool = Field(True, description="Run workflows in the SDK's sandbox (off: less CPU and memory)")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: bool = Field(False, description="Implicit TLS (SMTPS) from the first byte")
    smtp_starttls: bool = Field(False, description="Upgrade with STARTTLS after connecting")
    smtp_timeout_seconds: float = 10.0
    mail_sender: str = "ContestFlow 大赛组委会 <noreply@contestflow.localhost>"
    mail_delivery_lookup: Literal["none", "sink"] = Field(
        "none",
        description=(
            "How a mail in doubt (the connection broke after the message was handed over) is settled: `sink` looks"
            " for it in the embedded SMTP sink's store (mail_store_dir); `none` holds it as uncertain for organisers"
        ),
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_url: str = Field("", description="Where contestctl reaches the API; empty: http://api_host:api_port")
    api_key: str = Field("", description="contestctl's organiser API key (cfk_…), from POST /accounts/{id}/api-keys")

    timezone: str = "Asia/Shanghai"

    log_level: str = Field("INFO", description="Python log level of the API and the worker")
    log_format: Literal["json", "text"] = Field("json", description="JSON lines (with workflow ids) or plain text")
    worker_metrics_host: str = Field("127.0.0.1", description="Where the worker serves the SDK's Prometheus metrics")
    worker_metrics_port: int = Field(9464, description="The worker's Prometheus port; 0 turns it off")
    otel_endpoint: str = Field("", description="OTLP/HTTP traces endpoint (needs the otel extra); empty: no tracing")

    personal_data_key: str = Field(
        "", description="Base64 32-byte key for ID/phone numbers; empty: a key file in data_dir"
    )
    token_minutes: int = Field(60, description="How long a login token lives")
    login_attempts: int = Field(5, description="Failed logins allowed per account within login_window_minutes")
    login_window_minutes: int = 15
    max_body_bytes: int = Field(4 * 1024 * 1024, description="Largest request body the API reads (not uploads)")
    credit_registry_url: str = Field("", description="HTTP credit service; empty: the tables organisers import")
    credit_registry_token: str = ""
    upload_document_max_bytes: int = 50 * 1024 * 1024
    upload_image_max_bytes: int = 20 * 1024 * 1024
    upload_video_max_bytes: int = 500 * 1024 * 1024

    def upload_limits(self) -> dict[str, int]:
        """Largest accepted file per kind of upload."""
        return {
            "document": self.upload_document_max_bytes,
            "image": self.upload_image_max_bytes,
            "video": self.upload_video_max_bytes,
        }

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'contestflow.db').resolve()}"

    @property
    def effective_worker_activities(self) -> int:
        """Activities one worker runs at once: SQLite has one writer, so a herd (every project closing registration
        at the same instant) queues in the worker instead of timing out on the database lock."""
        if self.worker_max_activities:
            return self.worker_max_activities
        return 8 if self.effective_database_url.startswith("sqlite") else 100

    @property
    def effective_api_url(self) -> str:
        """The API's base URL for contestctl."""
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def effective_temporal_ui_url(self) -> str:
        """Where organisers open the Temporal Web UI."""
        return self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}"

    @property
    def mail_store_dir(self) -> Path:
        """Where the embedded SMTP sink keeps every message it receives."""
        return self.data_dir / "mail"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()  # type: ignore[call-arg]  # every field has a default; mypy cannot see it

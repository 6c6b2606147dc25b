"""The FastAPI application: lifespan wiring of database and Temporal, routers, error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from activities.smtp import SmtpConfig, SmtpSender
from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from api.routes import (
    accounts,
    attachments,
    audit,
    auth,
    awards,
    ceremony,
    competitions,
    dashboard,
    exports,
    final,
    health,
    judges,
    mails,
    materials,
    notices,
    projects,
    promotions,
    public_pages,
    rankings,
    registry,
    review,
    scores,
    verification,
)
from checks.registry import make_registry
from config import Settings, get_settings
from config.temporal import connect_temporal
from db.session import make_engine, make_sessionmaker
from security.personal_data import PersonalDataCipher, load_key
from storage import LocalFileStore
from telemetry.metrics import RequestMetricsMiddleware, metrics_endpoint
from telemetry.tracing import tracing_interceptors


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    """An app bound to the given settings; it connects to Temporal at start unless handed a client."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url, settings.database_busy_timeout_seconds)
        app.state.settings = settings
        app.state.sessions = make_sessionmaker(engine)
        app.state.temporal = temporal or await connect_temporal(
            settings, interceptors=tracing_interceptors(settings.otel_endpoint, "contestflow-api")
        )
        app.state.registry = make_registry(
            settings.credit_registry_url, settings.credit_registry_token, app.state.sessions
        )
        app.state.store = LocalFileStore(settings.data_dir / "files")
        app.state.cipher = PersonalDataCipher(load_key(settings.personal_data_key, settings.data_dir))
        app.state.smtp = SmtpSender(
            SmtpConfig(settings.smtp_host, settings.smtp_port, timeout=3.0, use_tls=settings.smtp_tls)
        )
        yield
        await engine.dispose()

    app = FastAPI(
        title="ContestFlow",
        version="0.1.0",
        lifespan=lifespan,
        description="Runs multi-stage public innovation competitions on Temporal. "
        "Errors are JSON: `{error: {code, message_zh, message_en}}`.",
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=max(settings.upload_limits().values()) + 1024 * 1024,
    )
    app.add_middleware(RequestMetricsMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(accounts.router)
    app.include_router(audit.router)
    app.include_router(competitions.router)
    app.include_router(projects.router)
    app.include_router(attachments.router)
    app.include_router(materials.router)
    app.include_router(registry.router)
    app.include_router(judges.router)
    app.include_router(scores.router)
    app.include_router(review.router)
    app.include_router(rankings.router)
    app.include_router(notices.router)
    app.include_router(public_pages.router)
    app.include_router(verification.router)
    app.include_router(promotions.router)
    app.include_router(final.router)
    app.include_router(awards.router)
    app.include_router(ceremony.router)
    app.include_router(dashboard.router)
    app.include_router(exports.router)
    app.include_router(mails.router)
    return app


app = create_app()

"""The worker: connects to Temporal and the database and runs every workflow and activity of ContestFlow."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner

from activities.calendar import CalendarActivities
from activities.eligibility import EligibilityActivities
from activities.mail import MailActivities
from activities.notices import NoticeActivities
from activities.records import RecordActivities
from activities.rendering import MailRenderer
from activities.review import CohortActivities, ReviewActivities
from activities.smtp import SmtpConfig, SmtpSender
from checks.registry import make_registry
from config import Settings, get_settings
from config.temporal import connect_temporal
from db.session import make_engine, make_sessionmaker
from devtools.mail_sink import SinkStoreLookup
from telemetry.logs import configure_logging
from telemetry.metrics import worker_runtime
from telemetry.tracing import tracing_interceptors
from workers.sandbox import LeanSandboxedWorkflowRunner
from workflows.competition import CompetitionWorkflow
from workflows.mail_resend import MailResendWorkflow
from workflows.project import ProjectWorkflow

WORKFLOWS = [ProjectWorkflow, CompetitionWorkflow, MailResendWorkflow]


def smtp_config(settings: Settings) -> SmtpConfig:
    """The SMTP adapter's settings."""
    return SmtpConfig(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_user,
        settings.smtp_password,
        settings.smtp_tls,
        settings.smtp_starttls,
        settings.smtp_timeout_seconds,
    )


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The SDK's sandbox with its default restrictions (lean context lookups, workers/sandbox.py), or none. (Passing
    every module through, which the SDK offers, saved about a quarter of the time per update here but let a
    module-level `datetime` import reach the real clock: tests/test_worker_sandbox.py keeps the default honest.)"""
    return LeanSandboxedWorkflowRunner() if settings.worker_sandbox else UnsandboxedWorkflowRunner()


def build_worker(client: Client, settings: Settings) -> Worker:
    """A worker with every workflow and activity, its adapters built from the settings."""
    sessions = make_sessionmaker(make_engine(settings.effective_database_url, settings.database_busy_timeout_seconds))
    lookup = SinkStoreLookup(settings.mail_store_dir) if settings.mail_delivery_lookup == "sink" else None
    mail = MailActivities(sessions, SmtpSender(smtp_config(settings)), MailRenderer(), settings.mail_sender, lookup)
    records = RecordActivities(sessions)
    notices = NoticeActivities(sessions, mail)
    calendar = CalendarActivities(sessions, client, mail)
    review = ReviewActivities(sessions)
    cohort = CohortActivities(sessions, client)
    eligibility = EligibilityActivities(
        sessions, make_registry(settings.credit_registry_url, settings.credit_registry_token, sessions)
    )
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=WORKFLOWS,
        max_concurrent_activities=settings.effective_worker_activities,
        max_cached_workflows=settings.worker_cached_workflows,
        workflow_runner=workflow_runner(settings),
        activities=[
            mail.send_mail,
            mail.resend_mail,
            records.record_project_event,
            calendar.broadcast_calendar,
            eligibility.check_project,
            eligibility.lock_representatives,
            review.record_score,
            review.replace_reviewer,
            cohort.announce_first_round,
            cohort.announce_final,
            notices.record_ruling,
        ],
    )


async def run_worker(settings: Settings) -> None:
    """Connect (with the SDK's metrics for Prometheus and, if configured, tracing) and poll until cancelled."""
    runtime = None
    if settings.worker_metrics_port:
        runtime = worker_runtime(f"{settings.worker_metrics_host}:{settings.worker_metrics_port}")
    interceptors = tracing_interceptors(settings.otel_endpoint, "contestflow-worker")
    client = await connect_temporal(settings, runtime=runtime, interceptors=interceptors)
    worker = build_worker(client, settings)
    logging.getLogger(__name__).info("worker polling task queue %s", settings.temporal_task_queue)
    await worker.run()


if __name__ == "__main__":
    configure_logging(get_settings().log_level, get_settings().log_format)
    with suppress(KeyboardInterrupt):
        asyncio.run(run_worker(get_settings()))

"""The worker: connects to Temporal and the database and runs every workflow and activity of ContestFlow."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from temporalio.client import Client
from temporalio.worker import Worker

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
from db.session import make_engine, make_sessionmaker
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


def build_worker(client: Client, settings: Settings) -> Worker:
    """A worker with every workflow and activity, its adapters built from the settings."""
    sessions = make_sessionmaker(make_engine(settings.effective_database_url))
    mail = MailActivities(sessions, SmtpSender(smtp_config(settings)), MailRenderer(), settings.mail_sender)
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
    """Connect and poll until cancelled."""
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    worker = build_worker(client, settings)
    logging.getLogger(__name__).info("worker polling task queue %s", settings.temporal_task_queue)
    await worker.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with suppress(KeyboardInterrupt):
        asyncio.run(run_worker(get_settings()))

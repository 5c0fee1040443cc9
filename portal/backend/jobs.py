"""The in-process scheduler: every worker runs it, and every job claims its rows, so N workers
never do the same work twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from portal.backend import monitoring
from portal.backend.backup import scheduled_backup
from portal.backend.config import settings
from portal.backend.notify.dispatch import Channels, dispatch_due
from portal.backend.notify.email import email_channel
from portal.backend.notify.sms import sms_channel
from portal.backend.retention import scheduled_retention
from portal.backend.services import call
from portal.backend.services.patient_search import index_unindexed_patients
from portal.backend.services.reminders import send_due_reminders
from portal.backend.services.scheduling import offer_earlier_times
from portal.backend.services.sessions import end_expired_sessions


def start() -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    channels = Channels(email=email_channel(settings()), sms=sms_channel(settings()))
    scheduler.add_job(
        call, "interval", seconds=20, args=[end_expired_sessions], id="end_expired_sessions"
    )
    scheduler.add_job(
        call,
        "interval",
        seconds=3,
        args=[dispatch_due],
        kwargs={"channels": channels},
        id="dispatch_notifications",
    )
    # First at start-up (a restart holds back no due reminder), where every worker races for
    # the same rows, then every 30 s.
    scheduler.add_job(
        call,
        "interval",
        seconds=30,
        args=[send_due_reminders],
        id="appointment_reminders",
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        call, "interval", seconds=10, args=[offer_earlier_times], id="waitlist_offers"
    )
    if settings().backup_dir is not None:
        # Checked hourly; one worker writes an archive when none was made in 23 hours.
        scheduler.add_job(scheduled_backup, "interval", hours=1, id="daily_backup")
    # Checked hourly (first a few minutes after start, so frequent restarts do not starve
    # it); one worker deletes rows past their retention when no run completed in 23 hours.
    scheduler.add_job(
        scheduled_retention,
        "interval",
        hours=1,
        id="retention",
        next_run_time=datetime.now(UTC) + timedelta(minutes=5),
    )
    # Patients created before the search indexes existed: indexed at start-up, then checked
    # hourly (a cheap query once there are none).
    scheduler.add_job(
        call,
        "interval",
        hours=1,
        args=[index_unindexed_patients],
        id="patient_search_indexes",
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_listener(_report_failure, EVENT_JOB_ERROR)
    scheduler.start()
    global _scheduler
    _scheduler = scheduler
    return scheduler


_scheduler: BackgroundScheduler | None = None


def _report_failure(event: JobExecutionEvent) -> None:
    """A job that raised: logged by type and place with a reference, and sent to Sentry."""
    if event.exception is not None:
        monitoring.report_exception(event.exception, origin="job", job=event.job_id)


def status() -> dict:
    """Whether this process's scheduler runs, and when each job runs next (for /healthz)."""
    scheduler = _scheduler
    running = scheduler is not None and scheduler.running
    jobs = scheduler.get_jobs() if running else []
    return {
        "running": running,
        "jobs": [
            {
                "id": job.id,
                "next_run": job.next_run_time.astimezone(UTC).isoformat(timespec="seconds")
                if job.next_run_time
                else None,
            }
            for job in jobs
        ],
    }

"""The in-process scheduler: every worker runs it, and every job claims its rows, so N workers
never do the same work twice."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from portal.backend.config import settings
from portal.backend.notify.dispatch import Channels, dispatch_due
from portal.backend.notify.email import email_channel
from portal.backend.notify.sms import sms_channel
from portal.backend.services import call
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
    scheduler.add_job(
        call, "interval", seconds=30, args=[send_due_reminders], id="appointment_reminders"
    )
    scheduler.add_job(
        call, "interval", seconds=10, args=[offer_earlier_times], id="waitlist_offers"
    )
    scheduler.start()
    return scheduler

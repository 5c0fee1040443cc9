"""The notification outbox: preferences, suppression, quiet hours, STOP/START, the notification
centre, exactly-once delivery by two dispatchers, SES (moto) and Twilio (the real client
against a local stand-in, and its signed callbacks), and no PHI in any template or channel."""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import boto3
import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from portal.backend import clock, models
from portal.backend.config import load_settings, settings
from portal.backend.db import Database
from portal.backend.notify.dispatch import Channels, dispatch_due
from portal.backend.notify.email import SesEmail
from portal.backend.notify.outbox import notify_user, portal_link
from portal.backend.notify.sms import TwilioSms, normalize_phone
from portal.backend.notify.templates import PARAMETER_KINDS, TEMPLATES
from portal.backend.services import messaging, notifications
from tests.integration.api_client import http, portal_api
from tests.integration.factories import CANARY

LINK = "https://portal.example.org/sign-in"
SAFE = {"link": LINK, "date": "Tuesday 1 December 2026", "time": "9:30 AM", "minutes": "15"}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, text: str) -> str | None:
        self.sent.append((to, subject, text))
        return f"id-{len(self.sent)}"


def channels() -> tuple[Channels, Recorder, Recorder]:
    email, sms = Recorder(), Recorder()
    return Channels(email, sms), email, sms


def user(practice, who: str) -> models.User:
    with practice.database.unit_of_work() as uow:
        return uow.session.get(models.User, practice.user_ids[who])


def notify(practice, who: str, template_id: str, key: str, **values: str) -> None:
    template = TEMPLATES[template_id]
    parameters = {
        name: values.get(name, SAFE[name]) for name in template.parameters if name != "practice"
    }
    with practice.database.unit_of_work() as uow:
        notify_user(
            uow,
            uow.session.get(models.User, practice.user_ids[who]),
            template_id,
            parameters,
            event_key=key,
        )
        uow.commit()


def rows(practice) -> list[models.Notification]:
    with practice.database.unit_of_work() as uow:
        return list(uow.session.exec(select(models.Notification)).scalars())


def set_mobile(practice, who: str, phone: str | None, *, at_night: bool = False) -> None:
    with practice.database.unit_of_work() as uow:
        account = uow.session.get(models.User, practice.user_ids[who])
        account.mobile_phone, account.texts_at_night = phone, at_night
        uow.commit()


def at_local(practice, hour: int) -> None:
    """Move the clock to `hour` o'clock today in the practice's zone."""
    zone = ZoneInfo("America/New_York")
    now = clock.now().astimezone(zone)
    target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    clock.travel(target - now + (timedelta(days=1) if target < now else timedelta(0)))


def test_one_event_reaches_the_channels_the_person_wants(practice):
    set_mobile(practice, "patient_a", "+15550134421")
    notify(practice, "patient_a", "appointment_reminder", "reminder:1")
    notify(practice, "patient_a", "appointment_reminder", "reminder:1")  # the same event again
    assert sorted((r.channel, r.status) for r in rows(practice)) == [
        ("email", "pending"),
        ("in_app", "pending"),
        ("sms", "pending"),
    ]


def test_choices_turn_channels_off_but_never_account_notices(practice):
    principal = practice.principal("patient_a")
    set_mobile(practice, "patient_a", "+15550134421")
    notifications.save_preferences(
        principal,
        {
            ("new_result", "email"): False,
            ("account", "email"): False,
            ("account", "in_app"): False,
            ("new_result", "sms"): True,
        },
        False,
        uow=practice.database.unit_of_work(),
    )
    notify(practice, "patient_a", "new_result", "result:1")
    notify(practice, "patient_a", "registration_existing", "account:1")
    sent = {(r.template_id, r.channel) for r in rows(practice)}
    assert ("new_result", "email") not in sent and ("new_result", "sms") in sent
    assert {("registration_existing", "email"), ("registration_existing", "in_app")} <= sent


def test_texts_cannot_be_chosen_without_a_mobile_number(practice):
    principal = practice.principal("patient_b")
    uow = practice.database.unit_of_work
    notifications.save_preferences(principal, {("new_message", "sms"): True}, False, uow=uow())
    assert not any(row.sms for row in notifications.my_preferences(principal, uow=uow()).rows)
    set_mobile(practice, "patient_b", "+15550100000")
    shown = {
        row.category: row.sms for row in notifications.my_preferences(principal, uow=uow()).rows
    }
    assert shown == {
        "appointment_reminder": True,
        "appointment_change": False,
        "new_message": False,
        "new_result": False,
        "account": False,
    }


def test_a_channel_without_an_address_is_suppressed_with_a_reason(practice):
    notify(practice, "patient_a", "appointment_reminder", "reminder:2")  # no mobile number
    [sms] = [r for r in rows(practice) if r.channel == "sms"]
    assert (sms.status, sms.suppressed_reason) == ("suppressed", "no mobile number")
    sent, _, sms_channel = channels()
    dispatch_due(channels=sent, uow=practice.database.unit_of_work())
    assert sms_channel.sent == []


@pytest.mark.parametrize(("hour", "held"), [(22, True), (3, True), (9, False), (20, False)])
def test_texts_wait_for_the_morning_unless_wanted_at_night(practice, hour, held):
    set_mobile(practice, "patient_a", "+15550134421")
    at_local(practice, hour)
    notify(practice, "patient_a", "appointment_reminder", f"reminder:{hour}")
    sent, _, sms = channels()
    dispatch_due(channels=sent, uow=practice.database.unit_of_work())
    assert (sms.sent == []) is held
    if held:
        [text] = [r for r in rows(practice) if r.channel == "sms"]
        assert text.status == "pending"
        assert text.due_at.astimezone(ZoneInfo("America/New_York")).hour == 8
        at_local(practice, 8)
        dispatch_due(channels=sent, uow=practice.database.unit_of_work())
        assert len(sms.sent) == 1


def test_texts_at_night_go_out_at_once_when_asked_for(practice):
    set_mobile(practice, "patient_a", "+15550134421", at_night=True)
    at_local(practice, 23)
    notify(practice, "patient_a", "appointment_reminder", "reminder:night")
    sent, _, sms = channels()
    dispatch_due(channels=sent, uow=practice.database.unit_of_work())
    assert len(sms.sent) == 1


def test_stop_and_start_replies_switch_texts_off_and_on(practice):
    set_mobile(practice, "patient_a", "+15550134421")
    at_local(practice, 12)
    uow = practice.database.unit_of_work
    assert notifications.record_text_reply("(555) 013-4421", " stop ", uow=uow()) == "opted_out"
    notify(practice, "patient_a", "appointment_reminder", "reminder:stop")
    sent, _, sms = channels()
    dispatch_due(channels=sent, uow=uow())
    assert sms.sent == []
    assert [r.suppressed_reason for r in rows(practice) if r.channel == "sms"] == ["replied STOP"]
    assert notifications.record_text_reply("+15550134421", "START", uow=uow()) == "opted_in"
    notify(practice, "patient_a", "appointment_reminder", "reminder:start")
    dispatch_due(channels=sent, uow=uow())
    assert len(sms.sent) == 1
    assert notifications.record_text_reply("+15550134421", "hello there", uow=uow()) is None


def test_the_notification_centre_counts_unread_and_reading_clears_them(practice):
    principal = practice.principal("patient_a")
    uow = practice.database.unit_of_work
    notify(practice, "patient_a", "new_result", "result:c1")
    notify(practice, "patient_a", "new_message", "message:c1")
    notify(practice, "patient_b", "new_message", "message:c2")
    assert notifications.unread_count(principal, uow=uow()) == 0  # not delivered yet
    dispatch_due(channels=channels()[0], uow=uow())
    assert notifications.unread_count(principal, uow=uow()) == 2
    shown = notifications.notification_centre(principal, uow=uow())
    assert {item.subject for item in shown} == {
        "New message from Test Practice",
        "A new result is available",
    }
    assert all(item.unread for item in shown)
    assert notifications.unread_count(principal, uow=uow()) == 0
    assert notifications.unread_count(practice.principal("patient_b"), uow=uow()) == 1


@pytest.mark.parametrize("who", ["patient_a", "provider", "admin"])
def test_the_shell_counts_unread_notifications_and_messages_in_one_go(practice, who):
    principal = practice.principal(who)
    uow = practice.database.unit_of_work
    notify(practice, who, "new_result", f"result:{who}")
    dispatch_due(channels=channels()[0], uow=uow())
    counts = notifications.unread_counts(principal, uow=uow())
    assert counts == notifications.UnreadCounts(
        notifications=notifications.unread_count(principal, uow=uow()),
        messages=messaging.unread_messages(principal, uow=uow()),
    )
    assert counts.notifications == 1


def test_admins_see_delivery_counts_and_failures_without_recipients(practice):
    notify(practice, "patient_a", "new_result", "result:d1")
    with practice.database.unit_of_work() as uow:
        for row in uow.session.exec(select(models.Notification)).scalars():
            if row.channel == "email":
                row.status, row.attempts, row.last_error = "failed", 5, "SMTPServerDisconnected"
        uow.commit()
    status = notifications.delivery_status(
        practice.principal("admin"), uow=practice.database.unit_of_work()
    )
    counts = {c.channel: (c.pending, c.sent, c.failed, c.suppressed) for c in status.counts}
    assert counts["email"] == (0, 0, 1, 0) and counts["in_app"] == (1, 0, 0, 0)
    [failure] = status.failures
    assert (failure.template, failure.attempts, failure.error) == (
        "new_result",
        5,
        "SMTPServerDisconnected",
    )
    assert CANARY.lower() not in repr(status)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_dispatchers_send_each_of_1000_notifications_exactly_once(practice):
    with practice.database.unit_of_work() as uow:
        account = uow.session.get(models.User, practice.user_ids["patient_a"])
        for index in range(1000):
            uow.session.add(
                models.Notification(
                    tenant_id=practice.tenant_id,
                    user_id=account.id,
                    recipient=account.email,
                    category="new_message",
                    channel="email",
                    template_id="new_message",
                    parameters={"practice": "Test Practice", "link": LINK},
                    idempotency_key=f"bulk:{index}",
                )
            )
        uow.commit()
    recorders = [Recorder(), Recorder()]
    workers = [Database(practice.database.settings) for _ in recorders]

    def run(index: int) -> None:
        channel = Channels(recorders[index], Recorder())
        while dispatch_due(channels=channel, uow=workers[index].unit_of_work()):
            pass

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, range(2)))
    with practice.database.unit_of_work() as uow:
        assert (
            uow.session.exec(
                select(func.count())
                .select_from(models.Notification)
                .where(models.Notification.status == "sent")
            ).scalar_one()
            == 1000
        )
        attempts = (
            uow.session.exec(select(models.NotificationAttempt.notification_id)).scalars().all()
        )
    assert len(attempts) == len(set(attempts)) == 1000
    assert sum(len(r.sent) for r in recorders) == 1000
    assert all(r.sent for r in recorders)  # both workers took part
    for worker in workers:
        worker.engine.dispose()


def test_every_template_on_every_channel_is_free_of_a_canary_patients_phi(practice):
    set_mobile(practice, "patient_a", "+15550134421", at_night=True)
    for template_id in TEMPLATES:
        for channel in ("in_app", "email", "sms"):
            notifications.save_preferences(
                practice.principal("patient_a"),
                {(TEMPLATES[template_id].category, channel): True},
                True,
                uow=practice.database.unit_of_work(),
            )
        notify(practice, "patient_a", template_id, f"canary:{template_id}")
    sent, email, sms = channels()
    while dispatch_due(channels=sent, uow=practice.database.unit_of_work()):
        pass
    centre = notifications.notification_centre(
        practice.principal("patient_a"), uow=practice.database.unit_of_work()
    )
    texts = [subject + text for _, subject, text in email.sent + sms.sent]
    texts += [item.subject + item.text for item in centre]
    assert len(email.sent) == len(TEMPLATES) and len(centre) == len(TEMPLATES)
    for text in texts:
        assert CANARY not in text and CANARY.lower() not in text
        assert "Ann" not in text and "1970" not in text and "MRN" not in text


def test_ses_sends_through_boto3(moto_url, practice):
    ses = boto3.client("ses", endpoint_url=moto_url, region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="portal@test-practice.example")
    notify(practice, "patient_a", "new_result", "result:ses")
    email = SesEmail(ses, "Test Practice <portal@test-practice.example>")
    assert (
        dispatch_due(channels=Channels(email, Recorder()), uow=practice.database.unit_of_work())
        == 2
    )
    [mail] = [r for r in rows(practice) if r.channel == "email"]
    assert mail.status == "sent" and mail.provider_message_id
    quota = ses.get_send_statistics()["SendDataPoints"]
    assert sum(point["DeliveryAttempts"] for point in quota) >= 1


class TwilioStandIn(BaseHTTPRequestHandler):
    """Answers the Messages API like Twilio and records what it was sent."""

    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        TwilioStandIn.received.append(
            {
                "path": self.path,
                "form": parse_qs(body),
                "auth": self.headers.get("Authorization", ""),
            }
        )
        reply = json.dumps(
            {
                "sid": f"SM{len(TwilioStandIn.received):032d}",
                "status": "queued",
                "to": parse_qs(body)["To"][0],
                "body": parse_qs(body)["Body"][0],
            }
        )
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(reply.encode())

    def log_message(self, *args) -> None:
        return None


@pytest.fixture
def twilio_stand_in():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = HTTPServer(("127.0.0.1", port), TwilioStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    TwilioStandIn.received = []
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


TWILIO_ENV = {
    "PORTAL_SMS": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_FROM_NUMBER": "+15550000000",
    "PORTAL_PUBLIC_URL": "https://portal.example.org",
}


def test_texts_go_through_the_twilio_client_with_a_status_callback(practice, twilio_stand_in):
    config = load_settings({**TWILIO_ENV, "PORTAL_TWILIO_API_URL": twilio_stand_in})
    set_mobile(practice, "patient_a", "(555) 013-4421", at_night=True)
    notify(practice, "patient_a", "appointment_reminder", "reminder:twilio")
    sms = TwilioSms(config, "https://portal.example.org/webhooks/twilio/status")
    dispatch_due(channels=Channels(Recorder(), sms), uow=practice.database.unit_of_work())
    [request] = TwilioStandIn.received
    assert (
        request["path"] == f"/2010-04-01/Accounts/{TWILIO_ENV['TWILIO_ACCOUNT_SID']}/Messages.json"
    )
    assert request["form"]["To"] == ["+15550134421"]
    assert request["form"]["From"] == ["+15550000000"]
    assert request["form"]["StatusCallback"] == [
        "https://portal.example.org/webhooks/twilio/status"
    ]
    assert request["auth"].startswith("Basic ")
    assert "Reminder: you have an appointment" in request["form"]["Body"][0]
    [text] = [r for r in rows(practice) if r.channel == "sms"]
    assert text.provider_message_id.startswith("SM")


@pytest.fixture
def twilio_api(practice, monkeypatch):
    """The portal's HTTP routes in process, configured for Twilio and the test's database."""
    with portal_api(practice.database, monkeypatch, **TWILIO_ENV) as app:
        yield app


def signed_post(app, path: str, form: dict[str, str], *, forge: bool = False) -> httpx.Response:
    """A POST as Twilio makes it, over HTTP to the app in process."""
    url = f"{TWILIO_ENV['PORTAL_PUBLIC_URL']}{path}"
    signature = RequestValidator(TWILIO_ENV["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
    return http(
        app,
        "POST",
        path,
        base_url=url.removesuffix(path),
        data=form,
        headers={"X-Twilio-Signature": "forged" if forge else signature},
    )


def test_signed_callbacks_are_applied_and_forged_ones_change_nothing(practice, twilio_api, caplog):
    set_mobile(practice, "patient_a", "+15550134421", at_night=True)
    notify(practice, "patient_a", "appointment_reminder", "reminder:callback")
    with practice.database.unit_of_work() as uow:
        text = (
            uow.session.exec(
                select(models.Notification).where(models.Notification.channel == "sms")
            )
            .scalars()
            .one()
        )
        text.provider_message_id, text.status = "SM123", "sent"
        uow.commit()
    forged = signed_post(
        twilio_api,
        "/webhooks/twilio/status",
        {"MessageSid": "SM123", "MessageStatus": "failed"},
        forge=True,
    )
    assert forged.status_code == 403
    assert "refused a Twilio callback" in caplog.text
    assert [r.delivery_status for r in rows(practice) if r.channel == "sms"] == [None]
    good = signed_post(
        twilio_api, "/webhooks/twilio/status", {"MessageSid": "SM123", "MessageStatus": "delivered"}
    )
    assert good.status_code == 204
    assert [r.delivery_status for r in rows(practice) if r.channel == "sms"] == ["delivered"]

    forged_stop = signed_post(
        twilio_api, "/webhooks/twilio/inbound", {"From": "+15550134421", "Body": "STOP"}, forge=True
    )
    assert forged_stop.status_code == 403
    with practice.database.unit_of_work() as uow:
        assert (
            uow.session.exec(select(func.count()).select_from(models.SmsOptOut)).scalar_one() == 0
        )
    stop = signed_post(
        twilio_api, "/webhooks/twilio/inbound", {"From": "+15550134421", "Body": "STOP"}
    )
    assert stop.status_code == 200 and "<Response>" in stop.text
    with practice.database.unit_of_work() as uow:
        assert (
            uow.session.exec(select(func.count()).select_from(models.SmsOptOut)).scalar_one() == 1
        )


def test_phone_numbers_are_normalised_or_refused():
    assert normalize_phone("(555) 013-4421") == "+15550134421"
    assert normalize_phone("1 555 013 4421") == "+15550134421"
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    for bad in ("", "123", "555-CALL-NOW", "+1", "0123456789", "(555) 013-44211"):
        assert normalize_phone(bad) is None


def test_links_point_into_the_portal():
    assert portal_link("/sign-in") == f"{settings().public_url}/sign-in"
    assert set(SAFE) | {"practice"} == set(PARAMETER_KINDS)

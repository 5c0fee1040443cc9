"""The admins' audit-log review: names instead of ids, filters, keyset pages, the CSV export and
its route, verification in words, tenant scoping, refusals, and the log auditing its readers."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from portal.backend import clock, models
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import audit_review
from portal.backend.services.audit_review import AuditCriteria, AuditFilterInvalid
from tests.integration.api_client import http
from tests.integration.factories import build_practice

ZONE = ZoneInfo("America/New_York")


def uow(practice):
    return practice.database.unit_of_work()


def record(practice, who, action, *, outcome="success", patient=None, details=None) -> None:
    """An event by `who` (a practice fixture key, or None for the system), in its own
    transaction, as services write them."""
    principal = practice.principal(who) if who else None
    with uow(practice) as unit:
        unit.audit.record(
            principal,
            action,
            outcome=outcome,
            resource_type="appointment",
            resource_id=uuid.uuid4(),
            patient_id=patient.id if patient else None,
            tenant_id=practice.tenant_id,
            details=details,
        )
        unit.commit()


def events(practice, action: str) -> list[models.AuditEvent]:
    with uow(practice) as unit:
        return list(
            unit.session.exec(
                select(models.AuditEvent).where(models.AuditEvent.action == action)
            ).scalars()
        )


def read(practice, **filters):
    return audit_review.audit_log(practice.principal("admin"), uow=uow(practice), **filters)


def test_lines_name_the_actor_role_and_patient_and_the_read_is_audited(practice):
    record(practice, "provider", "record.read", patient=practice.patient_a, details="title")
    page = read(practice)
    line = next(line for line in page.lines if line.action == "record.read")
    assert (line.actor, line.actor_role) == ("Dr. Test", "Provider")
    assert line.patient == "AnnZZCANARY Alpha"
    assert (line.resource_type, line.outcome, line.details) == ("appointment", "success", "title")
    assert line.resource_id and line.when.endswith(("AM", "PM"))
    [event] = events(practice, "audit.read")
    assert event.actor_user_id == practice.user_ids["admin"]
    assert (event.resource_type, event.details) == ("audit_log", "filters=none")


def test_newest_first_and_only_this_practices_events(practice):
    other = build_practice(practice.database, slug="elsewhere")
    record(other, "provider", "other.practice")
    record(practice, "provider", "first.event")
    record(practice, "provider", "second.event")
    actions = [line.action for line in read(practice).lines]
    assert "other.practice" not in actions
    assert actions.index("second.event") < actions.index("first.event")


def test_filter_by_the_exact_email_of_who_acted_or_whose_account_it_was(practice):
    record(practice, "provider", "by.provider")
    record(practice, "patient_b", "by.patient")
    with uow(practice) as unit:
        unit.audit.record(
            practice.principal("admin"),
            "user.unlock",
            resource_type="user",
            resource_id=practice.user_ids["provider"],
        )
        unit.commit()
    lines = read(practice, email=practice.emails["provider"].upper()).lines
    actions = {line.action for line in lines}
    assert {"by.provider", "user.unlock"} <= actions and "by.patient" not in actions
    with pytest.raises(AuditFilterInvalid, match="No account"):
        read(practice, email="nobody@example.org")
    other = build_practice(practice.database, slug="elsewhere")
    with pytest.raises(AuditFilterInvalid, match="No account"):
        read(practice, email=other.emails["provider"])
    with pytest.raises(AuditFilterInvalid, match="full email"):
        read(practice, email="Dr. Test")


def test_filter_by_patient_last_name_and_birth_date(practice):
    record(practice, "provider", "chart.a", patient=practice.patient_a)
    record(practice, "provider", "chart.b", patient=practice.patient_b)
    lines = read(practice, last_name=" alpha ", birth_date="1970-01-02").lines
    assert {line.action for line in lines} == {"chart.a"}
    assert {line.patient for line in lines} == {"AnnZZCANARY Alpha"}
    # Reading a patient's trail shows in that patient's own trail.
    assert [e.patient_id for e in events(practice, "audit.read")] == [practice.patient_a.id]
    with pytest.raises(AuditFilterInvalid, match="No patient"):
        read(practice, last_name="Alpha", birth_date="1970-01-03")
    with pytest.raises(AuditFilterInvalid, match="both"):
        read(practice, last_name="Alpha")
    with pytest.raises(AuditFilterInvalid, match="YYYY-MM-DD"):
        read(practice, last_name="Alpha", birth_date="2 Jan 1970")


def test_filter_by_action_prefix_and_outcome(practice):
    record(practice, "provider", "message.read")
    record(practice, "provider", "message.send", outcome="denied")
    record(practice, "provider", "messagexread")
    record(practice, "provider", "record.read")
    prefix = {line.action for line in read(practice, action="message.").lines}
    assert prefix == {"message.read", "message.send"}
    assert {line.action for line in read(practice, action="message_").lines} == set()
    denied = read(practice, outcome="denied").lines
    assert [line.action for line in denied] == ["message.send"]
    for bad in ({"action": "x%"}, {"action": "' OR 1=1"}, {"outcome": "DENIED!"}):
        with pytest.raises(AuditFilterInvalid):
            read(practice, **bad)
    choices = audit_review.audit_choices(practice.principal("admin"), uow=uow(practice))
    assert {"message.read", "record.read"} <= set(choices.actions)
    assert {("success", "Success"), ("denied", "Denied")} <= {
        (choice.id, choice.name) for choice in choices.outcomes
    }


def test_filter_by_practice_local_days(practice):
    # 23:30 in New York is already the next day in UTC: the event belongs to the local day.
    today = utcnow().astimezone(ZONE).date()
    late_evening = utcnow().astimezone(ZONE).replace(hour=23, minute=30) - timedelta(days=3)
    clock.travel(late_evening - utcnow())
    record(practice, "provider", "late.evening")
    clock.reset()
    record(practice, "provider", "today.event")
    day = (today - timedelta(days=3)).isoformat()
    that_day = {line.action for line in read(practice, first_day=day, last_day=day).lines}
    assert "late.evening" in that_day and "today.event" not in that_day
    next_day = (today - timedelta(days=2)).isoformat()
    assert "late.evening" not in {
        line.action for line in read(practice, first_day=next_day, last_day=next_day).lines
    }
    after = (today - timedelta(days=2)).isoformat()
    actions = {line.action for line in read(practice, first_day=after).lines}
    assert "today.event" in actions and "late.evening" not in actions
    with pytest.raises(AuditFilterInvalid, match="on or after"):
        read(practice, first_day=after, last_day=day)


def test_keyset_pages_cover_every_event_once_in_order(practice, monkeypatch):
    monkeypatch.setattr(audit_review, "PAGE_SIZE", 4)
    for n in range(9):
        record(practice, "provider", f"paged.{n}")
    admin = practice.principal("admin")
    seen: list[str] = []
    after = ""
    pages = 0
    while True:
        page = audit_review.audit_log(admin, action="paged.", after=after, uow=uow(practice))
        seen += [line.action for line in page.lines]
        pages += 1
        if pages == 1:
            record(practice, "provider", "paged.late")  # newer: never pushes rows between pages
        if not page.next_after:
            break
        after = page.next_after
    assert seen == [f"paged.{n}" for n in reversed(range(9))]
    assert pages == 3
    with pytest.raises(NotFound):
        audit_review.audit_log(admin, after="not a cursor", uow=uow(practice))


def test_events_in_the_same_instant_are_paged_by_chain_and_sequence(practice, monkeypatch):
    monkeypatch.setattr(audit_review, "PAGE_SIZE", 2)
    frozen = utcnow()
    monkeypatch.setattr("portal.backend.audit.utcnow", lambda: frozen)
    for n in range(5):
        record(practice, None, f"same.{n}")
    admin = practice.principal("admin")
    first = audit_review.audit_log(admin, action="same.", uow=uow(practice))
    second = audit_review.audit_log(
        admin, action="same.", after=first.next_after, uow=uow(practice)
    )
    third = audit_review.audit_log(
        admin, action="same.", after=second.next_after, uow=uow(practice)
    )
    keys = [line.key for page in (first, second, third) for line in page.lines]
    assert len(keys) == len(set(keys)) == 5 and third.next_after == ""


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_patients_and_providers_may_not_review_verify_or_export(practice, who):
    principal = practice.principal(who)
    for service, arguments in (
        (audit_review.audit_log, ()),
        (audit_review.audit_choices, ()),
        (audit_review.verify_audit_log, ()),
        (audit_review.export_audit_csv, (AuditCriteria(),)),
    ):
        with pytest.raises(PermissionDenied):
            service(principal, *arguments, uow=uow(practice))
    assert events(practice, "audit.read") == events(practice, "audit.export") == []


def test_verification_says_in_words_whether_the_log_is_intact(practice):
    record(practice, "provider", "chart.a", patient=practice.patient_a)
    admin = practice.principal("admin")
    check = audit_review.verify_audit_log(admin, uow=uow(practice))
    assert check.intact and "intact" in check.text
    with practice.database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_UPDATE"))
        connection.execute(text("UPDATE audit_events SET outcome = 'x' WHERE action = 'chart.a'"))
    check = audit_review.verify_audit_log(admin, uow=uow(practice))
    assert not check.intact
    assert "tampered with" in check.text and "its contents were changed" in check.text
    assert [e.outcome for e in events(practice, "audit.verify")] == ["success", "failure"]


# --- the CSV export ---------------------------------------------------------------------------


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export(practice, criteria: AuditCriteria | None = None):
    return audit_review.export_audit_csv(
        practice.principal("admin"), criteria or AuditCriteria(), uow=uow(practice)
    )


def test_the_export_holds_the_filtered_view_and_is_audited(practice):
    record(practice, "provider", "chart.a", patient=practice.patient_a)
    record(practice, "provider", "chart.b", patient=practice.patient_b)
    page = read(practice, last_name="Alpha", birth_date="1970-01-02")
    assert page.export_query == f"patient={practice.patient_a.id}"
    criteria = AuditCriteria.from_query([("patient", str(practice.patient_a.id))])
    result = export(practice, criteria)
    header, *body = rows_of(result.data)
    assert header[:5] == ["Time (practice)", "Time (UTC)", "Actor", "Role", "Action"]
    assert [row[4] for row in body] == ["audit.read", "chart.a"]
    assert {row[7] for row in body} == {"AnnZZCANARY Alpha"}
    assert (result.rows, result.truncated) == (2, False)
    [event] = events(practice, "audit.export")
    assert (event.patient_id, event.details) == (practice.patient_a.id, "filters=patient")


def test_export_cells_that_could_be_formulas_are_neutralised(practice):
    with uow(practice) as unit:
        user = unit.session.get(models.User, practice.user_ids["provider"])
        user.display_name = '=HYPERLINK("http://evil.example","x")'
        unit.commit()
    record(practice, "provider", "chart.a", details="+cmd|' /C calc'!A0")
    [row] = [row for row in rows_of(export(practice).data) if row[4] == "chart.a"]
    assert row[2] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[9] == "'+cmd|' /C calc'!A0"


def test_the_export_is_bounded_and_says_so(practice, monkeypatch):
    monkeypatch.setattr(audit_review, "EXPORT_LIMIT", 3)
    for n in range(5):
        record(practice, "provider", f"bulk.{n}")
    result = export(practice)
    _header, *body, last = rows_of(result.data)
    assert len(body) == 3 and result.truncated
    assert last == ["Stopped at 3 rows: narrow the filters to export the rest."]


def test_export_criteria_from_another_practice_or_malformed_are_not_found(practice):
    other = build_practice(practice.database, slug="elsewhere")
    for criteria in (
        AuditCriteria(patient_ids=(other.patient_a.id,)),
        AuditCriteria(actor_id=other.user_ids["admin"]),
    ):
        with pytest.raises(NotFound):
            export(practice, criteria)
    for query in (
        [("patient", "not-an-id")],
        [("from", "yesterday")],
        [("action", "%")],
        [("from", "2026-02-01"), ("to", "2026-01-01")],
    ):
        with pytest.raises(NotFound):
            AuditCriteria.from_query(query)


# --- the HTTP route ----------------------------------------------------------------------------


def test_the_route_serves_admins_csv_that_is_never_cached(practice, api):
    record(practice, "provider", "chart.a", patient=practice.patient_a)
    path = f"{audit_review.EXPORT_PATH}?patient={practice.patient_a.id}&action=chart."
    reply = http(api, "GET", path, token=practice.token("admin"))
    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["content-type"].startswith("text/csv")
    assert reply.headers["content-disposition"] == 'attachment; filename="audit-log.csv"'
    assert [row[4] for row in rows_of(reply.content)[1:]] == ["chart.a"]


def test_the_route_refuses_everyone_else_alike(practice, api):
    other = build_practice(practice.database, slug="elsewhere")
    record(practice, "provider", "chart.a", patient=practice.patient_a)
    path = f"{audit_review.EXPORT_PATH}?patient={practice.patient_a.id}"
    replies = [
        http(api, "GET", path, token=practice.token("patient_a")),
        http(api, "GET", path, token=practice.token("provider")),
        http(api, "GET", path, token=other.token("admin")),
        http(api, "GET", path, token="no-such-session"),
        http(
            api,
            "GET",
            f"{audit_review.EXPORT_PATH}?patient=nonsense",
            token=practice.token("admin"),
        ),
    ]
    assert [reply.status_code for reply in replies] == [404] * 5
    assert {reply.text for reply in replies} == {"Not found."}
    assert all("Alpha" not in reply.text for reply in replies)
    # Another practice's admin, unfiltered, gets only their own practice's log.
    own = http(api, "GET", audit_review.EXPORT_PATH, token=other.token("admin"))
    assert "chart.a" not in own.text and "Alpha" not in own.text

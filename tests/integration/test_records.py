"""Medical records through the service layer, on SQLite and PostgreSQL: entering each kind,
listing with filters and sort, lab ranges and trends, release after review, corrections, the
patient's access log, and ids that are not the caller's."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import load_demo
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import (
    record_changes,
    record_entries,
    record_exports,
    record_views,
    records,
)
from portal.backend.services.record_entries import (
    AllergyEntry,
    DocumentEntry,
    ImmunizationEntry,
    LabEntry,
    LabTestEntry,
    MedicationEntry,
    ProblemEntry,
    RecordInvalid,
    VisitEntry,
)
from portal.backend.services.sessions import open_session
from tests.dates import practice_today
from tests.integration.factories import CANARY, PDF, build_practice

TODAY = practice_today().isoformat()


def uow(practice):
    return practice.database.unit_of_work()


def glucose(value: str, on: str = TODAY, status: str = "final") -> LabEntry:
    return LabEntry(
        title="Basic metabolic panel",
        collected_on=on,
        status=status,
        tests=[
            LabTestEntry("Glucose", value, "mg/dL", "70", "99", loinc="2345-7"),
            LabTestEntry("Sodium", "139", "mmol/L", "135", "145", loinc="2951-2"),
        ],
    )


def add(practice, entry, patient="patient_a") -> uuid.UUID:
    patient_id = getattr(practice, patient).id
    return uuid.UUID(
        record_changes.add_record(
            practice.principal("provider"), patient_id, entry, uow=uow(practice)
        )
    )


def hold_for_review(practice, kinds: str) -> None:
    with uow(practice) as work:
        work.session.get(models.Practice, practice.tenant_id).records_held_for_review = kinds
        work.commit()


def result_notices(practice) -> int:
    with uow(practice) as work:
        return len(
            work.session.exec(
                select(models.Notification).where(
                    models.Notification.template_id == "new_result",
                    models.Notification.channel == "email",
                )
            )
            .scalars()
            .all()
        )


ENTRIES = [
    glucose("104"),
    VisitEntry("Annual physical", TODAY, "Doing well.", "Hypertension\nPrediabetes", "Walk daily"),
    MedicationEntry("Lisinopril", "10 mg", "by mouth", "once a day", TODAY),
    ImmunizationEntry("Influenza", TODAY, "1", "LOT42"),
    AllergyEntry("Penicillin", "Hives", "moderate"),
    ProblemEntry("Hypertension", TODAY, "active"),
    DocumentEntry("Chest X-ray report", "xray.pdf", PDF, TODAY),
]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: type(e).__name__)
def test_each_kind_is_entered_listed_and_read_by_its_patient(practice, entry):
    record_id = add(practice, entry)
    patient = practice.principal("patient_a")
    kind = str(record_entries.KIND_OF_ENTRY[type(entry)])
    home = records.records_home(patient, uow=uow(practice))
    assert {s.kind: s.count for s in home.sections}[kind] == 1
    listed = records.list_records(patient, kind, uow=uow(practice))
    assert [line.id for line in listed.lines] == [str(record_id)]
    detail = records.record_detail(patient, record_id, uow=uow(practice))
    assert detail.kind == kind and detail.facts
    assert result_notices(practice) == 1


def test_a_lab_value_has_its_range_bar_flag_in_words_and_trend(practice):
    add(practice, glucose("92", (practice_today() - timedelta(days=200)).isoformat()))
    latest = add(practice, glucose("131"))
    detail = records.record_detail(practice.principal("patient_a"), latest, uow=uow(practice))
    value = detail.lab_values[0]
    assert (value.test_name, value.flag, value.flag_words) == (
        "Glucose",
        "high",
        "Above the normal range",
    )
    assert value.reference == "70 to 99 mg/dL"
    assert value.range_from < value.range_to < value.marker_at <= 100
    assert [p.value for p in value.trend] == [92.0, 131.0]
    assert detail.lab_values[1].flag_words == "In the normal range"


def test_an_entered_lab_shows_its_collection_day_without_a_made_up_time(practice):
    record_id = add(practice, glucose("99"))
    detail = records.record_detail(practice.principal("patient_a"), record_id, uow=uow(practice))
    facts = {fact.label: fact.value for fact in detail.facts}
    day = r"\w+day \d{1,2} \w+ \d{4}"
    assert facts["Collected"] == detail.day and re.fullmatch(day, detail.day)  # no time entered
    assert re.fullmatch(day + r", \d{1,2}:\d{2} [AP]M", facts["Resulted"]), facts["Resulted"]
    assert facts["Ordered by"] == "Dr. Test, MD" and facts["Status"] == "Final"


def test_range_bars_place_the_value_against_one_sided_ranges_too():
    marker, start, end = record_views.range_bar("52", "40", None)
    assert 0 <= start < marker and end <= 100
    marker, start, end = record_views.range_bar("250", None, "200")
    assert start == 0 and end < marker <= 100
    assert record_views.range_bar("positive", "0", "1") == (-1, 0, 0)


def test_lists_filter_by_date_provider_and_search_and_sort(practice):
    old = (practice_today() - timedelta(days=400)).isoformat()
    add(practice, MedicationEntry("Metformin", "500 mg", "by mouth", "twice a day", old))
    add(practice, MedicationEntry("Atorvastatin", "20 mg", "by mouth", "at night", TODAY))
    patient = practice.principal("patient_a")

    def titles(**filters):
        listed = records.list_records(patient, "medication", uow=uow(practice), **filters)
        return [line.title for line in listed.lines]

    assert titles() == ["Atorvastatin", "Metformin"]
    assert titles(sort="oldest") == ["Metformin", "Atorvastatin"]
    assert titles(sort="name") == ["Atorvastatin", "Metformin"]
    assert titles(search="metf") == ["Metformin"]
    assert titles(since=practice_today() - timedelta(days=30)) == ["Atorvastatin"]
    assert titles(until=practice_today() - timedelta(days=30)) == ["Metformin"]
    assert titles(provider_id=str(practice.provider.id)) == ["Atorvastatin", "Metformin"]
    assert titles(provider_id=str(uuid.uuid4())) == []


def test_labs_are_found_by_the_name_of_a_test_inside_them(practice):
    add(practice, glucose("99"))
    listed = records.list_records(
        practice.principal("patient_a"), "lab_result", search="sodium", uow=uow(practice)
    )
    assert len(listed.lines) == 1 and listed.lines[0].summary == "2 tests, all in range"


def test_a_held_result_is_invisible_until_reviewed_and_no_notice_leaks_it(practice):
    hold_for_review(practice, "lab_result")
    record_id = add(practice, glucose("250"))
    patient = practice.principal("patient_a")
    assert records.list_records(patient, "lab_result", uow=uow(practice)).lines == []
    assert {s.kind: s.count for s in records.records_home(patient, uow=uow(practice)).sections}[
        "lab_result"
    ] == 0
    with pytest.raises(NotFound):
        records.record_detail(patient, record_id, uow=uow(practice))
    assert result_notices(practice) == 0

    provider = practice.principal("provider")
    waiting = records.awaiting_review(provider, uow=uow(practice))
    assert [line.id for line in waiting] == [str(record_id)] and not waiting[0].released
    record_changes.mark_reviewed(provider, record_id, "Please repeat fasting.", uow=uow(practice))
    detail = records.record_detail(patient, record_id, uow=uow(practice))
    assert detail.reviewed_by == "Dr. Test, MD"
    assert detail.review_comment == "Please repeat fasting."
    assert result_notices(practice) == 1
    assert records.awaiting_review(provider, uow=uow(practice)) == []


def test_other_kinds_are_released_at_once_when_only_labs_are_held(practice):
    hold_for_review(practice, "lab_result")
    add(practice, AllergyEntry("Latex", "Rash", "mild"))
    listed = records.list_records(practice.principal("patient_a"), "allergy", uow=uow(practice))
    assert len(listed.lines) == 1


def test_a_correction_replaces_the_values_marks_the_result_corrected_and_tells_the_patient(
    practice,
):
    record_id = add(practice, glucose("310"))
    provider = practice.principal("provider")
    record_changes.correct_record(provider, record_id, glucose("131"), uow=uow(practice))
    detail = records.record_detail(practice.principal("patient_a"), record_id, uow=uow(practice))
    assert detail.status == "corrected" and detail.lab_values[0].value == "131"
    assert result_notices(practice) == 2
    with pytest.raises(NotFound):
        record_changes.correct_record(
            provider, record_id, AllergyEntry("Dust", "Sneezing", "mild"), uow=uow(practice)
        )


def test_entries_are_refused_field_by_field(practice):
    future = (practice_today() + timedelta(days=3)).isoformat()
    bad_lab = LabEntry(
        title="",
        collected_on=future,
        status="final",
        tests=[
            LabTestEntry("Glucose", "", "mg/dL", "high", "99"),
            LabTestEntry("K", "4", "", "5", "3"),
        ],
    )
    with pytest.raises(RecordInvalid) as refused:
        add(practice, bad_lab)
    assert set(refused.value.errors) == {
        "title",
        "collected_on",
        "tests.0.value",
        "tests.0.low",
        "tests.1.high",
    }
    assert "future" in refused.value.errors["collected_on"]
    cases = [
        (LabEntry("Panel", TODAY, "final", []), "tests"),
        (MedicationEntry("X", "1", "oral", "daily", TODAY, "2001-01-01"), "stopped_on"),
        (ImmunizationEntry("Flu", "31/02/2026", "x"), "given_on"),
        (AllergyEntry("Nuts", "Swelling", "extreme"), "severity"),
        (ProblemEntry("Asthma", "1800-01-01"), "onset_on"),
        (DocumentEntry("Letter", "letter.exe", b"MZ\x90\x00"), "file"),
        (VisitEntry("Visit", TODAY, "x" * 10_001), "summary"),
    ]
    for entry, field_name in cases:
        with pytest.raises(RecordInvalid) as refused:
            add(practice, entry)
        assert field_name in refused.value.errors, (entry, refused.value.errors)


def test_a_value_with_a_unit_must_be_a_number_and_one_in_words_has_no_unit(practice):
    words_with_unit = LabEntry(
        title="Urinalysis",
        collected_on=TODAY,
        tests=[
            LabTestEntry("Glucose", "trace", "mg/dL"),
            LabTestEntry("Protein", "nan", "mg/dL", "inf", "30"),
        ],
    )
    with pytest.raises(RecordInvalid) as refused:
        add(practice, words_with_unit)
    assert refused.value.errors == {
        "tests.0.value": "The value is not a number, but mg/dL needs one, such as 5.4. "
        "For a result in words, such as negative, leave the unit empty.",
        "tests.1.value": "The value is not a number, but mg/dL needs one, such as 5.4. "
        "For a result in words, such as negative, leave the unit empty.",
        "tests.1.low": "A range limit is a number, such as 3.5.",
    }
    record_id = add(
        practice, LabEntry("Urinalysis", TODAY, tests=[LabTestEntry("Nitrite", "Negative")])
    )
    [value] = records.record_detail(
        practice.principal("patient_a"), record_id, uow=uow(practice)
    ).lab_values
    assert (value.value, value.flag, value.marker_at, value.reference) == (
        "Negative",
        "",
        -1,
        "No reference range",
    )


def test_empty_sections_and_lists_say_what_will_appear_there_and_when(practice):
    patient = practice.principal("patient_a")
    home = records.records_home(patient, uow=uow(practice))
    assert [s.kind for s in home.sections] == [str(kind) for kind in models.RecordKind]
    for section in home.sections:
        assert (section.count, section.latest) == (0, "")
        assert section.empty_text.endswith(".") and "appear here" in section.empty_text
    listed = records.list_records(patient, "lab_result", uow=uow(practice))
    assert listed.lines == []
    assert listed.empty_text == (
        "Test results appear here once your care team releases them, usually within "
        "a few days of the test."
    )


def test_a_document_downloads_for_its_patient_and_provider_only(practice):
    record_id = add(practice, DocumentEntry("Letter", "letter.pdf", PDF))
    for who in ("patient_a", "provider"):
        download = record_exports.record_document(
            practice.principal(who), record_id, uow=uow(practice)
        )
        assert (download.data or b"") == PDF or download.link
    with pytest.raises(NotFound):
        record_exports.record_document(
            practice.principal("patient_b"), record_id, uow=uow(practice)
        )


def test_another_patients_records_answer_as_if_they_did_not_exist(practice):
    record_b = add(practice, glucose("99"), patient="patient_b")
    patient_a = practice.principal("patient_a")
    missing = uuid.uuid4()
    for record_id in (record_b, missing):
        for call in (records.record_detail, record_exports.record_document):
            with pytest.raises(NotFound):
                call(patient_a, record_id, uow=uow(practice))
    with pytest.raises(NotFound):
        records.list_records(
            patient_a, "lab_result", patient_id=practice.patient_b.id, uow=uow(practice)
        )
    with pytest.raises(PermissionDenied):
        record_changes.add_record(patient_a, practice.patient_a.id, glucose("1"), uow=uow(practice))
    with pytest.raises(PermissionDenied):
        record_changes.mark_reviewed(patient_a, record_b, uow=uow(practice))


def test_a_provider_of_another_practice_cannot_reach_these_records(practice):
    record_id = add(practice, glucose("99"))
    other = build_practice(practice.database, slug="other-practice")
    stranger = other.principal("provider")
    for call in (
        records.record_detail,
        record_exports.record_document,
        record_changes.mark_reviewed,
    ):
        with pytest.raises(NotFound):
            call(stranger, record_id, uow=uow(practice))
    with pytest.raises(NotFound):
        record_changes.add_record(stranger, practice.patient_a.id, glucose("1"), uow=uow(practice))
    with pytest.raises(NotFound):
        records.list_records(
            stranger, "lab_result", patient_id=practice.patient_a.id, uow=uow(practice)
        )


def test_the_patient_sees_who_at_the_practice_viewed_their_record(practice):
    record_id = add(practice, glucose("99"))
    records.record_detail(practice.principal("provider"), record_id, uow=uow(practice))
    records.record_detail(practice.principal("patient_a"), record_id, uow=uow(practice))
    page = records.access_log(practice.principal("patient_a"), uow=uow(practice))
    assert [(line.who, line.what) for line in page.lines[:2]] == [
        ("Dr. Test", "Viewed a record in your chart"),
        ("Dr. Test", "Added a record in your chart"),
    ]
    assert all(line.who != f"Ann{CANARY}" for line in page.lines)
    other = records.access_log(practice.principal("patient_b"), uow=uow(practice))
    assert other.lines == []


def test_every_read_and_change_is_audited_with_the_patient(practice):
    record_id = add(practice, glucose("99"))
    records.record_detail(practice.principal("patient_a"), record_id, uow=uow(practice))
    with uow(practice) as work:
        actions = {
            (e.action, e.patient_id) for e in work.session.exec(select(models.AuditEvent)).scalars()
        }
    assert ("record.create", practice.patient_a.id) in actions
    assert ("record.read", practice.patient_a.id) in actions


def test_every_download_is_audited_with_the_patient(practice):
    lab = add(practice, glucose("99"))
    document = add(practice, ENTRIES[-1])
    patient = practice.principal("patient_a")
    record_exports.record_pdf(patient, lab, uow=uow(practice))
    record_exports.record_document(patient, document, uow=uow(practice))
    record_exports.summary_pdf(patient, practice_today(), practice_today(), uow=uow(practice))
    record_exports.health_record(patient, uow=uow(practice))
    with uow(practice) as work:
        events = [
            (e.action, e.resource_type, str(e.resource_id), e.patient_id, e.outcome)
            for e in work.session.exec(
                select(models.AuditEvent).where(
                    models.AuditEvent.action.in_(["record.pdf", "record.download", "record.export"])
                )
            ).scalars()
        ]
    me = practice.patient_a.id
    assert sorted(events, key=str) == sorted(
        [
            ("record.pdf", "record", str(lab), me, "success"),
            ("record.download", "record", str(document), me, "success"),
            ("record.pdf", "patient", str(me), me, "success"),
            ("record.export", "patient", str(me), me, "success"),
        ],
        key=str,
    )


@pytest.mark.parametrize(
    "entry",
    [entry for entry in ENTRIES if not isinstance(entry, DocumentEntry)],
    ids=lambda e: type(e).__name__,
)
def test_a_correction_form_starts_from_the_record_as_it_was_entered(practice, entry):
    record_id = add(practice, entry)
    provider = practice.principal("provider")
    again = record_changes.correction_entry(provider, record_id, uow=uow(practice))
    assert type(again) is type(entry)
    if isinstance(entry, LabEntry):
        assert [(t.name, t.value, t.unit, t.low, t.high, t.loinc) for t in again.tests] == [
            (t.name, t.value, t.unit, t.low, t.high, t.loinc) for t in entry.tests
        ]
        assert (again.title, again.collected_on, again.status) == (
            entry.title,
            entry.collected_on,
            entry.status,
        )
    else:
        assert again == entry
    record_changes.correct_record(provider, record_id, again, uow=uow(practice))


def test_only_a_provider_of_the_practice_starts_a_correction_and_never_of_a_document(practice):
    record_id = add(practice, AllergyEntry("Latex", "Rash", "mild"))
    document_id = add(practice, ENTRIES[-1])
    provider = practice.principal("provider")
    for missing in (document_id, uuid.uuid4()):
        with pytest.raises(NotFound):
            record_changes.correction_entry(provider, missing, uow=uow(practice))
    with pytest.raises(PermissionDenied):
        record_changes.correction_entry(
            practice.principal("patient_a"), record_id, uow=uow(practice)
        )


def test_results_to_review_name_the_patient_by_id_for_a_link(practice):
    hold_for_review(practice, "lab_result")
    add(practice, glucose("104"))
    [line] = records.awaiting_review(practice.principal("provider"), uow=uow(practice))
    assert line.patient_id == str(practice.patient_a.id)
    listed = records.list_records(
        practice.principal("provider"),
        "lab_result",
        patient_id=practice.patient_a.id,
        uow=uow(practice),
    )
    assert listed.lines[0].patient_id == ""


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def valid_bundle(data: bytes) -> dict:
    """The export parsed by the FHIR R4B models (each entry by its resource type's model)."""
    bundle = json.loads(data)
    parsed = Bundle.model_validate(bundle)
    assert len(parsed.entry) == len(bundle["entry"])
    return bundle


def test_a_record_pdf_holds_its_tests_values_and_flags(practice):
    record_id = add(practice, glucose("131"))
    download = record_exports.record_pdf(
        practice.principal("patient_a"), record_id, uow=uow(practice)
    )
    assert download.content_type == "application/pdf"
    text = pdf_text(download.data)
    for expected in (
        "Test Practice",
        "Basic metabolic panel",
        "Glucose",
        "131 mg/dL",
        "70 to 99 mg/dL",
        "Above the normal range",
        "Sodium",
        "139 mmol/L",
    ):
        assert expected in text, expected


def test_the_summary_pdf_covers_the_period_and_only_released_records(practice):
    hold_for_review(practice, "lab_result")
    add(practice, glucose("131"))
    add(practice, MedicationEntry("Metformin", "500 mg", "by mouth", "twice a day", TODAY))
    add(practice, AllergyEntry("Penicillin", "Hives", "moderate"))
    patient = practice.principal("patient_a")
    today = practice_today()
    text = pdf_text(
        record_exports.summary_pdf(
            patient, today - timedelta(days=1), today, uow=uow(practice)
        ).data
    )
    assert "Metformin" in text and "Penicillin" in text and "Glucose" not in text
    empty = record_exports.summary_pdf(
        patient, today - timedelta(days=90), today - timedelta(days=60), uow=uow(practice)
    )
    assert "There are no records in this period." in pdf_text(empty.data)
    with pytest.raises(RecordInvalid):
        record_exports.summary_pdf(patient, today, today - timedelta(days=1), uow=uow(practice))


def test_the_fhir_export_holds_every_kind_and_validates(practice):
    for entry in ENTRIES:
        add(practice, entry)
    add(practice, glucose("12"), patient="patient_b")
    download = record_exports.health_record(practice.principal("patient_a"), uow=uow(practice))
    assert download.content_type == "application/fhir+json"
    bundle = valid_bundle(download.data)
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types.count("Patient") == 1 and types.count("Observation") == 2
    assert {
        "DiagnosticReport",
        "Encounter",
        "MedicationStatement",
        "Immunization",
        "AllergyIntolerance",
        "Condition",
        "DocumentReference",
    } <= set(types)
    observation = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    )
    assert observation["valueQuantity"] == {"value": 104.0, "unit": "mg/dL"}
    assert observation["effectiveDateTime"] == TODAY  # the day entered, with no made-up time
    assert observation["code"]["coding"][0]["code"] == "2345-7"
    assert observation["referenceRange"] == [
        {"low": {"value": 70.0, "unit": "mg/dL"}, "high": {"value": 99.0, "unit": "mg/dL"}}
    ]
    document = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    )
    assert base64.b64decode(document["content"][0]["attachment"]["data"]) == PDF
    assert b"Beta" not in download.data  # patient B's name and results stay out


def test_pdf_and_export_refuse_what_is_not_the_callers(practice):
    record_b = add(practice, glucose("99"), patient="patient_b")
    for record_id in (record_b, uuid.uuid4()):
        with pytest.raises(NotFound):
            record_exports.record_pdf(practice.principal("patient_a"), record_id, uow=uow(practice))
    with pytest.raises(PermissionDenied):
        record_exports.health_record(practice.principal("provider"), uow=uow(practice))


def test_the_demo_patients_exports_validate(database):
    load_demo(uow=database.unit_of_work())
    with database.unit_of_work() as work:
        users = (
            work.session.exec(
                select(models.User).where(
                    models.User.role == "patient", models.User.status == "active"
                )
            )
            .scalars()
            .all()
        )
        user_ids = [user.id for user in users]
    assert len(user_ids) > 5
    for user_id in user_ids:
        with database.unit_of_work() as work:
            principal = open_session(work, work.session.get(models.User, user_id)).principal
            work.commit()
        bundle = valid_bundle(
            record_exports.health_record(principal, uow=database.unit_of_work()).data
        )
        assert len(bundle["entry"]) > 5


def test_a_pdf_of_characters_the_font_lacks_logs_none_of_them(practice, caplog):
    record_id = add(practice, AllergyEntry(f"花粉 {CANARY}", "Sneezing", "mild"))
    record_exports.record_pdf(practice.principal("patient_a"), record_id, uow=uow(practice))
    assert "花粉" not in caplog.text and CANARY not in caplog.text


def test_a_provider_counts_a_patients_records_held_ones_included(practice):
    hold_for_review(practice, "lab_result")
    add(practice, glucose("99"))
    provider = practice.principal("provider")
    home = records.records_home(provider, practice.patient_a.id, uow=uow(practice))
    assert {s.kind: s.count for s in home.sections}["lab_result"] == 1
    with pytest.raises(NotFound):
        records.records_home(provider, uow=uow(practice))
    with pytest.raises(NotFound):
        records.records_home(
            practice.principal("patient_a"), practice.patient_b.id, uow=uow(practice)
        )

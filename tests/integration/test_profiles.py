"""The patient's profile: contact details apply at once, checked field by field; identity fields
go through the practice's review; insurance card pictures are stored encrypted and handed out
only to the patient and their practice; onboarding resumes where it was left; every change is
audited with the names of the fields, never their values."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.patient_index import name_dob_index, phone_index
from portal.backend.security.principal import NotFound, PermissionDenied, Principal
from portal.backend.services import home, onboarding, profile_changes, profiles
from portal.backend.services.patient_access import BreakGlassNeeded
from portal.backend.services.profile_checks import (
    ContactDetails,
    EmergencyContact,
    InsuranceDetails,
    ProfileInvalid,
)
from portal.backend.services.sessions import open_session
from tests.dates import practice_today
from tests.integration.api_client import http
from tests.integration.factories import CANARY, PDF, build_practice

GOOD = ContactDetails(
    preferred_name="Annie",
    sex="female",
    gender_identity="prefer_not_to_say",
    pronouns="she/her",
    preferred_language="Spanish",
    phone="(555) 234-5678",
    email="annie@example.org",
    address_line1="12 River Road",
    city="Riverside",
    region="NY",
    postal_code="10901",
    contact_method="sms",
)
PLAN = InsuranceDetails(
    payer="Blue Plan", member_id="XJ-12345", group_number="G100", relationship="self"
)


def png(width: int = 40, height: int = 24, **info) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, format="PNG", **info)
    return out.getvalue()


def jpeg_with_location() -> bytes:
    image = Image.new("RGB", (30, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010E] = f"taken at home {CANARY}"  # ImageDescription
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def run(practice, who: str, service, *args, **kwargs):
    return service(practice.principal(who), *args, uow=practice.database.unit_of_work(), **kwargs)


def patient_row(practice, key: str = "patient_a") -> models.Patient:
    with practice.database.unit_of_work() as uow:
        return uow.session.get(models.Patient, getattr(practice, key).id)


def audit(practice, prefix: str) -> list[models.AuditEvent]:
    with practice.database.unit_of_work() as uow:
        return [
            event
            for event in uow.session.exec(
                select(models.AuditEvent).order_by(models.AuditEvent.occurred_at)
            ).scalars()
            if event.action.startswith(prefix)
        ]


def provider_off_the_team(practice) -> Principal:
    """A provider of the practice on no care team and with no appointments: a reader of no
    patient without break-glass."""
    with practice.database.unit_of_work() as uow:
        user = models.User(
            tenant_id=practice.tenant_id,
            role="provider",
            email="covering@test-practice.example",
            email_index=uuid.uuid4().hex,
            display_name="Dr. Covering",
        )
        uow.session.add(user)
        uow.session.flush()
        uow.session.add(
            models.Provider(tenant_id=practice.tenant_id, user_id=user.id, display_name="Dr. C")
        )
        principal = open_session(uow, user).principal
        uow.commit()
        return principal


def notices(practice) -> list[models.Notification]:
    with practice.database.unit_of_work() as uow:
        return list(uow.session.exec(select(models.Notification)).scalars())


# --- reading --------------------------------------------------------------------------------


def test_the_patient_reads_their_own_profile_and_the_read_is_audited(practice):
    profile = run(practice, "patient_a", profiles.my_profile)
    assert profile.legal_first_name == f"Ann{CANARY}"
    assert profile.date_of_birth == "1970-01-02"
    assert profile.date_of_birth_text == "2 January 1970"
    assert profile.insurance.payer == "Payer"
    assert profile.emergency_contacts == []
    [event] = audit(practice, "profile.read")
    assert event.patient_id == practice.patient_a.id


def test_a_provider_of_the_practice_reads_any_patients_profile(practice):
    profile = run(practice, "provider", profiles.read_profile, practice.patient_b.id)
    assert profile.legal_last_name == "Beta"
    [event] = audit(practice, "profile.read")
    assert (event.actor_role, event.patient_id) == ("provider", practice.patient_b.id)


def test_another_patients_profile_answers_like_a_missing_one(practice):
    with pytest.raises(NotFound) as theirs:
        run(practice, "patient_a", profiles.read_profile, practice.patient_b.id)
    with pytest.raises(NotFound) as missing:
        run(practice, "patient_a", profiles.read_profile, uuid.uuid4())
    assert str(theirs.value) == str(missing.value)


def test_staff_of_another_practice_and_admins_cannot_read_the_profile(practice):
    other = build_practice(practice.database, slug="elsewhere")
    with pytest.raises(NotFound):
        run(other, "provider", profiles.read_profile, practice.patient_a.id)
    # An admin reads a profile only under break-glass (tests/integration/test_break_glass.py).
    with pytest.raises(BreakGlassNeeded):
        run(practice, "admin", profiles.read_profile, practice.patient_a.id)


# --- contact details ------------------------------------------------------------------------


def test_contact_details_apply_at_once_and_keep_the_search_indexes_right(practice):
    profile = run(practice, "patient_a", profiles.update_contact_details, GOOD)
    assert profile.preferred_name == "Annie"
    assert profile.phone == "+15552345678"
    assert profile.address_text == "12 River Road, Riverside, NY 10901"
    assert profile.contact_method_label == "Text message"
    assert profile.gender_identity_label == "Prefer not to say"
    row = patient_row(practice)
    with practice.database.unit_of_work() as uow:
        assert row.phone_index == phone_index(uow, "+15552345678")
        grams = uow.session.exec(
            select(models.PatientNameGram).where(models.PatientNameGram.patient_id == row.id)
        ).all()
        assert grams  # preferred name pieces re-indexed
    [event] = audit(practice, "profile.update")
    assert set(event.details.split(",")) == {
        "preferred_name",
        "sex",
        "gender_identity",
        "pronouns",
        "preferred_language",
        "phone",
        "email",
        "address",
        "contact_method",
    }
    for value in ("Annie", "5552345678", "annie@", "River", "Spanish"):
        assert value not in event.details


def test_saving_the_same_details_again_changes_and_audits_nothing(practice):
    run(practice, "patient_a", profiles.update_contact_details, GOOD)
    run(practice, "patient_a", profiles.update_contact_details, GOOD)
    assert len(audit(practice, "profile.update")) == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"phone": "12345"}, "phone", "area code"),
        ({"phone": "call me maybe"}, "phone", "area code"),
        ({"email": "not-an-email"}, "email", "name@example.com"),
        ({"email": "a@b"}, "email", "name@example.com"),
        ({"sex": "robot"}, "sex", "Choose"),
        ({"gender_identity": "<script>"}, "gender_identity", "Choose"),
        ({"contact_method": ""}, "contact_method", "how you would like"),
        ({"contact_method": "pigeon"}, "contact_method", "how you would like"),
        ({"contact_method": "phone", "phone": ""}, "phone", "reach you"),
        ({"contact_method": "email", "email": ""}, "email", "reach you"),
        ({"preferred_name": "x" * 101}, "preferred_name", "under 100"),
        ({"pronouns": "p" * 41}, "pronouns", "under 40"),
        ({"preferred_language": "l" * 61}, "preferred_language", "under 60"),
        ({"preferred_name": "Ann\x00ie"}, "preferred_name", "special characters"),
        ({"address_line1": ""}, "address_line1", "street"),
        ({"city": ""}, "city", "town"),
        ({"postal_code": ""}, "postal_code", "ZIP"),
        ({"postal_code": "!!"}, "postal_code", "ZIP"),
        ({"address_line1": "a" * 201}, "address_line1", "under 200"),
    ],
)
def test_each_wrong_field_is_named_in_plain_words_and_nothing_changes(
    practice, changes, field, words
):
    details = ContactDetails(**{**GOOD.__dict__, **changes})
    with pytest.raises(ProfileInvalid) as refused:
        run(practice, "patient_a", profiles.update_contact_details, details)
    assert words in refused.value.errors[field]
    assert patient_row(practice).preferred_name is None
    assert audit(practice, "profile.update") == []


def test_every_wrong_field_is_reported_at_once(practice):
    details = ContactDetails(phone="12", email="x", sex="?", contact_method="")
    with pytest.raises(ProfileInvalid) as refused:
        run(practice, "patient_a", profiles.update_contact_details, details)
    assert set(refused.value.errors) == {"phone", "email", "sex", "contact_method"}


def test_an_address_can_be_cleared(practice):
    run(practice, "patient_a", profiles.update_contact_details, GOOD)
    cleared = ContactDetails(
        **{
            **GOOD.__dict__,
            "address_line1": "",
            "city": "",
            "region": "",
            "postal_code": "",
        }
    )
    profile = run(practice, "patient_a", profiles.update_contact_details, cleared)
    assert profile.address_text == ""
    assert patient_row(practice).address is None


# --- identity changes -----------------------------------------------------------------------


def test_an_identity_change_waits_for_review_and_the_patient_sees_it_pending(practice):
    profile = run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anne",
        "Alpha",
        "1970-01-03",
    )
    [request] = profile.identity_requests
    assert request.status_label == "Pending review"
    assert [(c.label, c.requested) for c in request.changes] == [
        ("Legal first name", "Anne"),
        ("Date of birth", "3 January 1970"),
    ]
    row = patient_row(practice)
    assert (row.legal_first_name, row.date_of_birth) == (f"Ann{CANARY}", date(1970, 1, 2))
    [event] = audit(practice, "profile.change.request")
    assert event.details == "date_of_birth,legal_first_name"


def test_a_newer_request_replaces_the_pending_one(practice):
    run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anne",
        "Alpha",
        "1970-01-02",
    )
    profile = run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anna",
        "Alpha",
        "1970-01-02",
    )
    [request] = profile.identity_requests
    assert [c.requested for c in request.changes] == ["Anna"]
    assert len(run(practice, "provider", profile_changes.pending_changes)) == 1


def test_staff_apply_a_change_the_record_and_indexes_follow_and_the_patient_is_told(practice):
    run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anne",
        "Omega",
        "1971-05-06",
    )
    [line] = run(practice, "provider", profile_changes.pending_changes)
    assert line.patient == f"Ann{CANARY} Alpha"
    assert [(c.current, c.requested) for c in line.changes] == [
        (f"Ann{CANARY}", "Anne"),
        ("Alpha", "Omega"),
        ("2 January 1970", "6 May 1971"),
    ]
    run(practice, "provider", profile_changes.apply_change, uuid.UUID(line.id))
    row = patient_row(practice)
    assert (row.legal_first_name, row.legal_last_name, row.date_of_birth) == (
        "Anne",
        "Omega",
        date(1971, 5, 6),
    )
    with practice.database.unit_of_work() as uow:
        assert row.name_dob_index == name_dob_index(uow, "Omega", date(1971, 5, 6))
    profile = run(practice, "patient_a", profiles.my_profile)
    assert profile.identity_requests[0].status_label == "Applied"
    assert run(practice, "provider", profile_changes.pending_changes) == []
    [applied] = audit(practice, "profile.change.apply")
    assert applied.details == "date_of_birth,legal_first_name,legal_last_name"
    assert "Omega" not in applied.details and "1971" not in applied.details
    sent = [n for n in notices(practice) if n.template_id == "profile_change_applied"]
    assert sent and all(n.user_id == practice.user_ids["patient_a"] for n in sent)
    with pytest.raises(NotFound):  # decided once
        run(practice, "provider", profile_changes.apply_change, uuid.UUID(line.id))


def test_staff_decline_with_a_reason_the_patient_reads(practice):
    run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anne",
        "Alpha",
        "1970-01-02",
    )
    [line] = run(practice, "provider", profile_changes.pending_changes)
    with pytest.raises(ProfileInvalid) as refused:
        run(practice, "provider", profile_changes.decline_change, uuid.UUID(line.id), "  ")
    assert "Say why" in refused.value.errors["reason"]
    run(
        practice,
        "provider",
        profile_changes.decline_change,
        uuid.UUID(line.id),
        "Please bring a photo ID to the front desk.",
    )
    assert patient_row(practice).legal_first_name == f"Ann{CANARY}"
    [request] = run(practice, "patient_a", profiles.my_profile).identity_requests
    assert request.status_label == "Declined"
    assert request.decline_reason == "Please bring a photo ID to the front desk."
    sent = [n for n in notices(practice) if n.template_id == "profile_change_declined"]
    assert sent
    [declined] = audit(practice, "profile.change.decline")
    assert declined.details == "legal_first_name"


def test_the_patient_can_withdraw_a_pending_request(practice):
    run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anne",
        "Alpha",
        "1970-01-02",
    )
    profile = run(practice, "patient_a", profile_changes.withdraw_identity_change)
    assert profile.identity_requests[0].status_label == "Declined"
    assert run(practice, "provider", profile_changes.pending_changes) == []


def test_requests_of_another_practice_cannot_be_seen_or_decided(practice):
    run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anne",
        "Alpha",
        "1970-01-02",
    )
    [line] = run(practice, "provider", profile_changes.pending_changes)
    other = build_practice(practice.database, slug="elsewhere")
    assert run(other, "provider", profile_changes.pending_changes) == []
    with pytest.raises(NotFound):
        run(other, "provider", profile_changes.apply_change, uuid.UUID(line.id))
    with pytest.raises(NotFound):
        run(other, "provider", profile_changes.decline_change, uuid.UUID(line.id), "no")
    with pytest.raises(PermissionDenied):
        run(practice, "patient_b", profile_changes.apply_change, uuid.UUID(line.id))
    assert patient_row(practice).legal_first_name == f"Ann{CANARY}"


def test_only_providers_who_read_the_patient_normally_see_and_decide_their_requests(practice):
    run(
        practice,
        "patient_a",
        profile_changes.request_identity_change,
        "Anne",
        "Alpha",
        "1970-01-02",
    )
    covering = provider_off_the_team(practice)
    work = practice.database.unit_of_work
    assert profile_changes.pending_changes(covering, uow=work()) == []
    assert home.provider_today(covering, uow=work()).profile_changes == 0
    [line] = run(practice, "provider", profile_changes.pending_changes)
    with pytest.raises(NotFound):
        profile_changes.apply_change(covering, uuid.UUID(line.id), uow=work())
    with pytest.raises(NotFound):
        profile_changes.decline_change(covering, uuid.UUID(line.id), "Bring an ID.", uow=work())
    assert patient_row(practice).legal_first_name == f"Ann{CANARY}"
    assert [c.id for c in run(practice, "provider", profile_changes.pending_changes)] == [line.id]
    assert run(practice, "provider", home.provider_today).profile_changes == 1


@pytest.mark.parametrize(
    ("first", "last", "born", "field", "words"),
    [
        ("", "Alpha", "1970-01-02", "legal_first_name", "first name"),
        ("Ann", " ", "1970-01-02", "legal_last_name", "last name"),
        ("A" * 101, "Alpha", "1970-01-02", "legal_first_name", "under 100"),
        ("Ann", "Alpha", "", "date_of_birth", "Enter your date of birth"),
        ("Ann", "Alpha", "1970-02-30", "date_of_birth", "real date"),
        ("Ann", "Alpha", "02/01/1970", "date_of_birth", "real date"),
        ("Ann", "Alpha", "1890-01-01", "date_of_birth", "130 years"),
        (
            "Ann",
            "Alpha",
            (practice_today() + timedelta(days=2)).isoformat(),
            "date_of_birth",
            "future",
        ),
        (f"Ann{CANARY}", "Alpha", "1970-01-02", "legal_first_name", "already your details"),
    ],
)
def test_identity_requests_are_checked_field_by_field(practice, first, last, born, field, words):
    with pytest.raises(ProfileInvalid) as refused:
        run(practice, "patient_a", profile_changes.request_identity_change, first, last, born)
    assert words in refused.value.errors[field]
    assert run(practice, "provider", profile_changes.pending_changes) == []


# --- insurance and its card pictures --------------------------------------------------------


def test_insurance_is_saved_and_checked(practice):
    profile = run(practice, "patient_a", profiles.save_insurance, PLAN)
    assert (profile.insurance.payer, profile.insurance.relationship_label) == (
        "Blue Plan",
        "Self",
    )
    [event] = audit(practice, "profile.insurance.update")
    assert "Blue" not in event.details and "member_id" in event.details
    wrong = InsuranceDetails(payer="", member_id="$$$", relationship="cousin")
    with pytest.raises(ProfileInvalid) as refused:
        run(practice, "patient_a", profiles.save_insurance, wrong)
    assert set(refused.value.errors) == {"payer", "member_id", "relationship"}
    someone_elses = InsuranceDetails(payer="P", member_id="M1", relationship="spouse")
    with pytest.raises(ProfileInvalid) as refused:
        run(practice, "patient_a", profiles.save_insurance, someone_elses)
    assert "person the plan is in" in refused.value.errors["subscriber"]


def test_insurance_can_be_removed(practice):
    run(practice, "patient_a", profiles.upload_insurance_card, "front", png())
    profile = run(practice, "patient_a", profiles.remove_insurance)
    assert profile.insurance is None


def test_card_pictures_are_stored_encrypted_without_their_metadata(practice):
    profile = run(practice, "patient_a", profiles.upload_insurance_card, "front", png())
    assert profile.insurance.front_image.startswith(
        f"/files/insurance/{practice.patient_a.id}/front"
    )
    assert profile.insurance.back_image == ""
    profile = run(
        practice, "patient_a", profiles.upload_insurance_card, "back", jpeg_with_location()
    )
    card = run(
        practice, "patient_a", profiles.download_insurance_card, practice.patient_a.id, "back"
    )
    assert card.content_type == "image/jpeg"
    assert CANARY.encode() not in card.data
    with Image.open(io.BytesIO(card.data)) as image:
        assert image.size == (30, 20)
    key = patient_row(practice).insurance["back_key"]
    stored = (practice.database.settings.data_dir / "files" / key[:2] / key).read_bytes()
    assert not stored.startswith(b"\xff\xd8\xff")
    [*_, event] = audit(practice, "profile.insurance.card")
    assert event.details == "back_card"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (PDF, "PNG or JPEG"),
        (b"just some text pretending to be a picture.png", "PNG or JPEG image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a picture we can read"),
        (b"\xff\xd8\xff" + b"garbage" * 50, "not a picture we can read"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024), "larger than 10 MB"),
    ],
)
def test_card_files_that_are_not_images_or_too_large_are_refused(practice, data, words):
    with pytest.raises(ProfileInvalid) as refused:
        run(practice, "patient_a", profiles.upload_insurance_card, "front", data)
    assert words in refused.value.errors["card"]
    assert "front_key" not in (patient_row(practice).insurance or {})


def test_a_replaced_or_removed_picture_is_deleted_from_the_store(practice):
    run(practice, "patient_a", profiles.upload_insurance_card, "front", png())
    first_key = patient_row(practice).insurance["front_key"]
    run(practice, "patient_a", profiles.upload_insurance_card, "front", png(50, 50))
    with pytest.raises(FileNotFoundError):
        practice.database.files.get(first_key)
    second_key = patient_row(practice).insurance["front_key"]
    profile = run(practice, "patient_a", profiles.remove_insurance_card, "front")
    assert profile.insurance.front_image == ""
    with pytest.raises(FileNotFoundError):
        practice.database.files.get(second_key)


def test_card_pictures_are_for_the_patient_and_their_practice_only(practice):
    run(practice, "patient_b", profiles.upload_insurance_card, "front", png())
    mine = run(
        practice, "patient_b", profiles.download_insurance_card, practice.patient_b.id, "front"
    )
    staff = run(
        practice, "provider", profiles.download_insurance_card, practice.patient_b.id, "front"
    )
    assert mine.data == staff.data
    other = build_practice(practice.database, slug="elsewhere")
    attempts = [
        (practice, "patient_a", practice.patient_b.id, "front"),
        (practice, "patient_a", practice.patient_b.id, "back"),
        (practice, "patient_a", practice.patient_b.id, "../front"),
        (practice, "admin", practice.patient_b.id, "front"),
        (other, "provider", practice.patient_b.id, "front"),
        (practice, "patient_a", uuid.uuid4(), "front"),
    ]
    for fixture, who, patient_id, side in attempts:
        with pytest.raises(NotFound):
            run(fixture, who, profiles.download_insurance_card, patient_id, side)
    denied = [e for e in audit(practice, "insurance_card.download") if e.outcome == "denied"]
    assert len(denied) == len(attempts)


def test_the_download_route_serves_the_owner_and_answers_404_alike_to_anyone_else(practice, api):
    picture = png()
    run(practice, "patient_b", profiles.upload_insurance_card, "front", picture)
    path = f"/files/insurance/{practice.patient_b.id}/front"
    own = http(api, "GET", path, token=practice.token("patient_b"))
    assert own.status_code == 200
    assert own.headers["content-type"] == "image/png"
    assert own.headers["cache-control"] == "no-store"
    assert own.headers["x-content-type-options"] == "nosniff"
    assert own.headers["content-disposition"].startswith("attachment;")
    with Image.open(io.BytesIO(own.content)) as image:
        assert image.size == (40, 24)
    intruder = practice.token("patient_a")
    answers = [
        http(api, "GET", path, token=intruder),
        http(api, "GET", f"/files/insurance/{uuid.uuid4()}/front", token=intruder),
        http(api, "GET", f"/files/insurance/{practice.patient_b.id}/side", token=intruder),
        http(api, "GET", "/files/insurance/not-an-id/front", token=intruder),
        http(api, "GET", path, token=""),
        http(api, "GET", path, token=practice.token("admin")),
    ]
    for answer in answers:
        assert (answer.status_code, answer.content) == (404, answers[1].content)


# --- emergency contacts ---------------------------------------------------------------------


def test_emergency_contacts_are_added_changed_and_removed(practice):
    contact = EmergencyContact("Sam Alpha", "spouse", "555-234-9999", may_share=True)
    profile = run(practice, "patient_a", profiles.save_emergency_contact, "", contact)
    [line] = profile.emergency_contacts
    assert (line.name, line.phone, line.may_share) == ("Sam Alpha", "+15552349999", True)
    changed = EmergencyContact("Sam Alpha", "husband", "555-234-9999", may_share=False)
    profile = run(practice, "patient_a", profiles.save_emergency_contact, line.id, changed)
    [line] = profile.emergency_contacts
    assert (line.relationship, line.may_share) == ("husband", False)
    profile = run(practice, "patient_a", profiles.remove_emergency_contact, line.id)
    assert profile.emergency_contacts == []
    actions = [e.action for e in audit(practice, "profile.emergency_contact")]
    assert actions == [
        "profile.emergency_contact.add",
        "profile.emergency_contact.update",
        "profile.emergency_contact.remove",
    ]
    assert audit(practice, "profile.emergency_contact.update")[0].details == (
        "may_share,relationship"
    )


def test_contacts_stored_without_an_id_can_still_be_changed(practice):
    with practice.database.unit_of_work() as uow:
        row = uow.session.get(models.Patient, practice.patient_a.id)
        row.emergency_contacts = [{"name": "Old Friend", "relationship": "friend", "phone": "x"}]
        uow.commit()
    [line] = run(practice, "patient_a", profiles.my_profile).emergency_contacts
    profile = run(practice, "patient_a", profiles.remove_emergency_contact, line.id)
    assert profile.emergency_contacts == []


def test_contacts_are_checked_and_limited(practice):
    with pytest.raises(ProfileInvalid) as refused:
        run(
            practice,
            "patient_a",
            profiles.save_emergency_contact,
            "",
            EmergencyContact("", "", "123"),
        )
    assert set(refused.value.errors) == {"name", "relationship", "phone"}
    for number in range(profiles.MAX_CONTACTS):
        run(
            practice,
            "patient_a",
            profiles.save_emergency_contact,
            "",
            EmergencyContact(f"Person {number}", "friend", "555-234-1000"),
        )
    with pytest.raises(ProfileInvalid):
        run(
            practice,
            "patient_a",
            profiles.save_emergency_contact,
            "",
            EmergencyContact("One more", "friend", "555-234-1000"),
        )


def test_a_patient_cannot_change_or_remove_another_patients_contacts(practice):
    contact = EmergencyContact("Bob's Friend", "friend", "555-234-7777")
    [line] = run(
        practice, "patient_b", profiles.save_emergency_contact, "", contact
    ).emergency_contacts
    with pytest.raises(NotFound):
        run(practice, "patient_a", profiles.save_emergency_contact, line.id, contact)
    with pytest.raises(NotFound):
        run(practice, "patient_a", profiles.remove_emergency_contact, line.id)
    assert patient_row(practice, "patient_b").emergency_contacts[0]["name"] == "Bob's Friend"
    assert patient_row(practice).emergency_contacts is None


# --- onboarding -----------------------------------------------------------------------------


def test_onboarding_is_offered_once_and_resumes_where_it_was_left(practice):
    assert run(practice, "patient_a", onboarding.onboarding_due) is True
    assert run(practice, "patient_a", home.patient_home).setup_unseen is True
    profile = run(practice, "patient_a", onboarding.start_onboarding)
    assert profile.onboarding_step == "details"
    assert run(practice, "patient_a", onboarding.onboarding_due) is False
    assert run(practice, "patient_a", onboarding.save_onboarding_step, "contacts") == "contacts"
    resumed = run(practice, "patient_a", onboarding.start_onboarding)
    assert resumed.onboarding_step == "contacts"
    view = run(practice, "patient_a", home.patient_home)
    assert (view.setup_unseen, view.setup_unfinished) == (False, True)
    assert run(practice, "patient_a", onboarding.save_onboarding_step, "done") == "done"
    assert patient_row(practice).onboarding_finished_at is not None
    view = run(practice, "patient_a", home.patient_home)
    assert (view.setup_unseen, view.setup_unfinished) == (False, False)
    # Finished stays finished, whatever a client asks for later.
    assert run(practice, "patient_a", onboarding.save_onboarding_step, "details") == "done"
    with pytest.raises(NotFound):
        run(practice, "patient_a", onboarding.save_onboarding_step, "somewhere")
    assert run(practice, "provider", onboarding.onboarding_due) is False


def test_onboarding_of_one_patient_leaves_the_other_alone(practice):
    run(practice, "patient_a", onboarding.start_onboarding)
    run(practice, "patient_a", onboarding.save_onboarding_step, "done")
    row = patient_row(practice, "patient_b")
    assert (row.onboarding_step, row.onboarding_finished_at) == (None, None)
    assert patient_row(practice).onboarding_finished_at <= utcnow()

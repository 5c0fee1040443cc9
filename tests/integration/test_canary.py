"""A canary patient's PHI (also typed into a message), after being written and read through
the services, appears in plaintext nowhere the portal stores or logs anything: not in the
database file or a pg_dump, not in the file store, not in any log record (SQL logging on)."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess

from sqlalchemy.engine import make_url

from portal.backend import models
from portal.backend.services import home, messaging, sessions, sign_in
from portal.backend.services.files import download_attachment
from tests.integration.factories import CANARY, PASSWORD

MARKERS = (CANARY.encode(), CANARY.lower().encode())


def exercise(practice) -> None:
    database = practice.database
    with database.unit_of_work() as uow:
        record = models.MedicalRecord(
            tenant_id=practice.tenant_id,
            patient_id=practice.patient_a.id,
            kind="lab_result",
            title=f"Panel {CANARY}",
            content={"note": f"comment {CANARY}"},
        )
        uow.session.add(record)
        uow.session.flush()
        uow.session.add(
            models.LabComponent(
                tenant_id=practice.tenant_id,
                record_id=record.id,
                test_name="Glucose",
                value=f"{CANARY} 5.9",
                unit="mmol/L",
                test_index="x" * 32,
            )
        )
        uow.commit()
    challenge = sign_in.begin_sign_in(
        practice.emails["patient_a"], PASSWORD, client="192.0.2.7", uow=database.unit_of_work()
    )
    patient = sign_in.complete_sign_in(
        challenge.token,
        practice.code("patient_a"),
        client="192.0.2.7",
        device="Firefox on Linux",
        uow=database.unit_of_work(),
    )
    # Where a patient types: a new thread's subject and text.
    messaging.start_thread(
        patient,
        f"Rash {CANARY}",
        "other",
        f"My {CANARY} rash is spreading.",
        uow=database.unit_of_work(),
    )
    home.patient_home(patient, uow=database.unit_of_work())
    home.provider_today(practice.principal("provider"), uow=database.unit_of_work())
    home.admin_overview(practice.principal("admin"), uow=database.unit_of_work())
    download_attachment(patient, practice.attachment_a, uow=database.unit_of_work())
    decoy = sign_in.begin_sign_in(
        practice.emails["patient_a"],
        "wrong password here",
        client="192.0.2.7",
        uow=database.unit_of_work(),
    )
    with contextlib.suppress(sign_in.SignInFailed):
        sign_in.complete_sign_in(
            decoy.token, "123456", client="192.0.2.7", device="", uow=database.unit_of_work()
        )
    sessions.sign_out(patient, uow=database.unit_of_work())


def stored_bytes(practice) -> dict[str, bytes]:
    settings = practice.database.settings
    found = {}
    if settings.is_sqlite:
        database_file = make_url(settings.database_url).database
        for suffix in ("", "-wal", "-shm"):
            path = f"{database_file}{suffix}"
            with open(path, "rb") as handle:
                found[path] = handle.read()
    else:
        url = make_url(settings.database_url).set(drivername="postgresql")
        dump = subprocess.run(
            [shutil.which("pg_dump") or "pg_dump", "--data-only", url.render_as_string(False)],
            capture_output=True,
            check=True,
            timeout=120,
        )
        found["pg_dump"] = dump.stdout
    for path in settings.files_dir.rglob("*"):
        if path.is_file():
            found[str(path)] = path.read_bytes()
    return found


def test_no_plaintext_phi_anywhere(practice, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        exercise(practice)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    stored = stored_bytes(practice)
    assert stored, "nothing was scanned"
    leaks = [place for place, data in stored.items() if any(m in data for m in MARKERS)]
    assert leaks == []
    assert "INSERT INTO" in caplog.text  # SQL was logged, with its parameters hidden
    assert CANARY not in caplog.text and CANARY.lower() not in caplog.text

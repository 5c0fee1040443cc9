"""Log records are masked for anything shaped like PHI, messages and tracebacks alike."""

from __future__ import annotations

import logging

from portal.backend import redaction


def test_phi_shaped_text_is_masked_and_ids_survive():
    text = (
        "patient maria.garcia@example.com born 1968-04-12, phone (555) 013-4421, member "
        "A12345678 ssn 123-45-6789 id 8336dc3c-c7af-41c0-8acb-aeebea059682"
    )
    masked = redaction.redact(text)
    for secret in ("maria.garcia", "1968-04-12", "013-4421", "12345678", "123-45-6789"):
        assert secret not in masked
    assert "8336dc3c-c7af-41c0-8acb-aeebea059682" in masked


def test_every_record_is_masked_once_installed(caplog):
    redaction.install()
    logger = logging.getLogger("portal.test")
    with caplog.at_level(logging.INFO):
        logger.info("lookup for %s", "maria.garcia@example.com")
        try:
            raise ValueError("phone 555-013-4421")
        except ValueError:
            logger.exception("failed")
    assert "maria.garcia" not in caplog.text
    assert "013-4421" not in caplog.text
    assert "ValueError" in caplog.text

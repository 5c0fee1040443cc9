"""Log records are masked for anything shaped like PHI, messages and tracebacks alike."""

from __future__ import annotations

import io
import json
import logging

import pytest

from portal.backend import monitoring, redaction
from portal.backend.config import ConfigError, load_settings


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


def test_json_log_lines_carry_time_level_logger_message_and_correlation_id():
    redaction.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(monitoring.JsonLogFormatter())
    logger = logging.getLogger("portal.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("plain line")
        with monitoring.correlated("0123456789ab"):
            logger.warning("lookup for %s", "maria.garcia@example.com")
            try:
                raise ValueError("born 1968-04-12")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO" and first["logger"] == "portal.test.json"
    assert first["message"] == "plain line"
    assert first["time"].endswith("+00:00")
    assert second["correlation_id"] == "0123456789ab"
    assert second["message"] == "lookup for [redacted]"
    assert "ValueError" in third["exception"] and "1968" not in third["exception"]
    assert "maria" not in stream.getvalue()


def test_json_format_is_put_on_every_handler_and_human_changes_nothing():
    logger = logging.getLogger("portal.test.server")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    handlers = [*logging.getLogger().handlers, handler]
    before = [h.formatter for h in handlers]
    try:
        monitoring.configure_logging("human")
        assert [h.formatter for h in handlers] == before
        monitoring.configure_logging("json")
        assert isinstance(handler.formatter, monitoring.JsonLogFormatter)
    finally:
        for each, formatter in zip(handlers, before, strict=True):
            each.setFormatter(formatter)
        logger.removeHandler(handler)


def test_the_log_format_is_a_setting():
    assert load_settings({}).log_format == "human"
    assert load_settings({"PORTAL_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="PORTAL_LOG_FORMAT"):
        load_settings({"PORTAL_LOG_FORMAT": "xml"})

"""An unexpected error shows a plain sentence with a reference; the log has no data from it."""

from __future__ import annotations

import logging

from portal.errors import handle_backend_exception


def test_errors_are_logged_by_type_and_place_without_their_message(caplog):
    try:
        raise ValueError("patient ZZCANARY born 1970-01-02")
    except ValueError as error:
        with caplog.at_level(logging.ERROR, logger="portal.errors"):
            toast = handle_backend_exception(error)
    logged = caplog.text
    assert "ValueError" in logged and "test_errors.py" in logged
    assert "ZZCANARY" not in logged and "1970" not in logged
    shown = str(toast)
    assert "Something went wrong" in shown
    assert "ZZCANARY" not in shown and "ValueError" not in shown and "Traceback" not in shown
    reference = logged.split("error ", 1)[1][:12]
    assert reference in shown

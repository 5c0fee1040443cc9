"""A last line of defence for logs: patterns that look like PHI are masked in every record.

The first line is not logging PHI at all: services log ids, engines hide SQL parameters, and
the error handler logs exception types and code locations, never messages. This catches what
slips through anyway (a library quoting a value in an error, say): email addresses, phone
numbers, dates, and long digit runs such as member or record numbers.
"""

from __future__ import annotations

import logging
import re
import traceback

PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    re.compile(r"(?<![\w-])\+?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b"),
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
    re.compile(r"\b[A-Za-z]{0,3}\d{6,}\b"),
]
MASK = "[redacted]"
_installed = False


def redact(text: str) -> str:
    for pattern in PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def install() -> None:
    """Mask every log record's message and traceback, whichever logger or handler it meets."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacted_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), None
        except (TypeError, ValueError):
            record.msg, record.args = redact(str(record.msg)), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return record

    logging.setLogRecordFactory(redacted_record)
    _installed = True

"""What a user sees when something breaks: a plain sentence and a reference, never internals.

The log line carries the reference, the exception type and the code locations only; exception
messages can quote data (SQL parameters, values) and are left out so no PHI reaches the log.
"""

import logging
import traceback
import uuid

import reflex as rx

logger = logging.getLogger("portal.errors")


def handle_backend_exception(exception: Exception) -> rx.event.EventSpec:
    reference = uuid.uuid4().hex[:12]
    frames = traceback.extract_tb(exception.__traceback__)
    where = " <- ".join(
        f"{frame.filename}:{frame.lineno} {frame.name}" for frame in reversed(frames)
    )
    logger.error("error %s: %s at %s", reference, type(exception).__name__, where)
    return rx.toast.error(
        "Something went wrong on our side. Please try again.",
        description=f"If it keeps happening, contact the practice and quote {reference}.",
        id="backend-error",
        position="top-center",
    )

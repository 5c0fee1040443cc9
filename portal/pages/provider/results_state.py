"""The Results screen's state: the provider's lab results nobody has reviewed yet, one of them
open, and its review. Record ids come back from the browser as text and are re-checked by the
service; a result that is not the provider's to see answers as "not available"."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import record_changes, records
from portal.backend.services.record_entries import RecordInvalid
from portal.backend.views import RecordDetail, RecordLine
from portal.components.forms import record_id, text_of
from portal.pages.provider.records_detail import COMMENT_LIMIT
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

NOT_AVAILABLE = "That result is not available. It may have been reviewed already."


@screen_state
class ResultsState(Screen):
    lines: list[RecordLine] = []
    loaded: bool = False
    detail: RecordDetail | None = None
    # Whose result is open: for the link to the patient's records.
    detail_patient_id: str = ""
    comment: str = ""
    comment_error: str = ""
    error: str = ""
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        await self._refresh(principal)

    async def _refresh(self, principal: Principal) -> None:
        self.lines = await run_service(self, records.awaiting_review, principal)
        self.loaded = True

    @rx.event
    async def open_result(self, result_id: str):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        self.error, self.message, self.comment, self.comment_error = "", "", "", ""
        line = next((line for line in self.lines if line.id == result_id), None)
        try:
            if line is None:
                raise NotFound
            self.detail = await run_service(
                self, records.record_detail, principal, record_id(line.id)
            )
        except NotFound:
            self.detail, self.error = None, NOT_AVAILABLE
            return
        self.detail_patient_id = line.patient_id

    @rx.event
    def close_result(self):
        self.detail, self.detail_patient_id, self.comment, self.comment_error = None, "", "", ""

    @rx.event
    def typed_comment(self, value: str):
        self.comment = value[: COMMENT_LIMIT + 1000] if isinstance(value, str) else ""

    @rx.event
    async def mark_reviewed(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self.detail is None:
            return
        comment = text_of(form_data, "comment", COMMENT_LIMIT + 1000)
        self.comment, self.comment_error, self.pending = comment, "", True
        yield
        title, day = self.detail.title, self.detail.day
        try:
            await run_service(
                self, record_changes.mark_reviewed, principal, record_id(self.detail.id), comment
            )
        except RecordInvalid as invalid:
            self.comment_error = invalid.errors.get("comment", str(invalid))
            return
        except NotFound:
            self.detail, self.error = None, NOT_AVAILABLE
            await self._refresh(principal)
            return
        finally:
            self.pending = False
        self.close_result()
        self.message = f"Marked reviewed: {title}, {day}." + (
            " Your comment is shown to the patient with the result." if comment.strip() else ""
        )
        await self._refresh(principal)

"""The patient's medical-record screens' state: the records home (with the summary's date pair),
one kind's list with its filters, one record, and who viewed the record. Each handler checks
the session and role itself and reads ids only through the service layer; a record that is not
the patient's answers as one that does not exist."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import records
from portal.backend.views import AccessLine, RecordDetail, RecordList, RecordsHome
from portal.components.forms import record_id, text_of
from portal.state.base import Screen, practice_today, run_service, screen_state
from portal.state.session import signed_in

SEARCH_LIMIT = 100
SORTS = [("newest", "Newest first"), ("oldest", "Oldest first"), ("name", "By name")]


def day_pair(first: str, last: str, *, required: bool) -> tuple[date | None, date | None, str, str]:
    """The first and last day of a range as typed, and what is wrong with each ("" if
    nothing): each must be a real date, and the first not after the last."""
    days: list[date | None] = []
    errors: list[str] = []
    for text, label in ((first, "first day"), (last, "last day")):
        text = text.strip()
        day, error = None, ""
        if not text:
            error = f"Enter the {label}." if required else ""
        else:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                error = f"The {label} is not a date. Enter it as YYYY-MM-DD, e.g. 2026-01-31."
        days.append(day)
        errors.append(error)
    if days[0] and days[1] and days[0] > days[1]:
        errors[1] = "The last day is before the first day. Choose a later one."
    return days[0], days[1], errors[0], errors[1]


@screen_state
class RecordsHomeState(Screen):
    home: RecordsHome | None = None
    summary_from: str = ""
    summary_to: str = ""
    from_error: str = ""
    to_error: str = ""
    # The summary PDF's address once the dates are right.
    summary_link: str = ""
    summary_text: str = ""

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        today = await practice_today(self, principal)
        self.summary_from = (today - timedelta(days=365)).isoformat()
        self.summary_to = today.isoformat()
        self.home = await run_service(self, records.records_home, principal)

    @rx.event
    async def prepare_summary(self, form_data: dict):
        """Check the date pair; when it is right, offer the summary PDF of that range."""
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.summary_from = text_of(form_data, "summary_from", 10)
        self.summary_to = text_of(form_data, "summary_to", 10)
        first, last, self.from_error, self.to_error = day_pair(
            self.summary_from, self.summary_to, required=True
        )
        if self.from_error or self.to_error:
            self.summary_link = self.summary_text = ""
            return
        query = urlencode({"from": first.isoformat(), "to": last.isoformat()})
        self.summary_link = f"{routes.SUMMARY_PDF}?{query}"
        self.summary_text = (
            f"Download the summary, {first.day} {first:%B %Y} to {last.day} {last:%B %Y} (PDF)"
        )


@screen_state
class RecordListState(Screen):
    records: RecordList | None = None
    missing: bool = False
    filtered: bool = False
    from_error: str = ""
    to_error: str = ""

    @rx.event
    async def load(self):
        self.reset()
        await self._read()

    async def _read(self, **filters) -> None:
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        kind = self.router.url.query_parameters.get("kind", "")[:40]
        try:
            self.records = await run_service(self, records.list_records, principal, kind, **filters)
        except NotFound:
            self.records, self.missing = None, True

    @rx.event
    async def search(self, form_data: dict):
        """Filter and sort the list. The clinician must be one the list offers; the sort one
        of the known orders."""
        if self.records is None:
            return
        since, until, self.from_error, self.to_error = day_pair(
            text_of(form_data, "since", 10), text_of(form_data, "until", 10), required=False
        )
        if self.from_error or self.to_error:
            return
        offered = {choice.id for choice in self.records.providers}
        provider = text_of(form_data, "provider", 40)
        sort = text_of(form_data, "sort", 10)
        filters = {
            "search": text_of(form_data, "search", SEARCH_LIMIT).strip(),
            "provider_id": provider if provider in offered else "",
            "since": since,
            "until": until,
            "sort": sort if sort in dict(SORTS) else "newest",
        }
        self.filtered = any(filters[name] for name in ("search", "provider_id", "since", "until"))
        await self._read(**filters)

    @rx.event
    async def clear(self):
        self.filtered = False
        self.from_error = self.to_error = ""
        await self._read()


@screen_state
class RecordDetailState(Screen):
    record: RecordDetail | None = None
    missing: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        try:
            wanted = record_id(self.router.url.query_parameters.get("id", "")[:40])
            self.record = await run_service(self, records.record_detail, principal, wanted)
        except NotFound:
            self.record, self.missing = None, True


@screen_state
class AccessLogState(Screen):
    lines: list[AccessLine] = []
    loaded: bool = False
    has_older: bool = False
    # Where the next, older page starts; kept server-side so no client value is trusted.
    _next_before: str = ""

    @rx.event
    async def load(self):
        self.reset()
        await self._read()

    @rx.event
    async def older(self):
        if self._next_before:
            await self._read(self._next_before)

    async def _read(self, before: str = "") -> None:
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        page = await run_service(self, records.access_log, principal, before=before)
        self.lines = [*self.lines, *page.lines] if before else page.lines
        self._next_before = page.next_before
        self.has_older = page.next_before != ""
        self.loaded = True

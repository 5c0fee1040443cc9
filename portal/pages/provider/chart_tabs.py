"""The tabs of a patient's chart. Each tab is a small state that reads its view through the
service layer (audited there) and a panel that shows it; `CHART_TABS` lists them in order, so
adding a tab is one entry (and its own state and panel). `ADMIN_CHART_TABS` are the read-only
tabs of an admin's emergency view: no messages (those are the care teams'), no booking hints."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import reflex as rx

from portal import routes
from portal.backend.security.principal import Principal
from portal.backend.services import patient_chart, profiles, records
from portal.backend.views import (
    AppointmentCard,
    ChartAppointments,
    ChartMessages,
    ChartSummary,
    PatientProfile,
    RecordsHome,
    ThreadLine,
)
from portal.components.cards import detail_row, figure, section
from portal.components.feedback import empty_state
from portal.components.profile import profile_view
from portal.layout import loading
from portal.state.base import Screen, run_service, screen_state


@screen_state
class SummaryTab(Screen):
    summary: ChartSummary | None = None

    async def _open(self, principal: Principal, patient_id: uuid.UUID) -> None:
        self.summary = await run_service(self, patient_chart.chart_summary, principal, patient_id)


@screen_state
class AppointmentsTab(Screen):
    appointments: ChartAppointments | None = None

    async def _open(self, principal: Principal, patient_id: uuid.UUID) -> None:
        self.appointments = await run_service(
            self, patient_chart.chart_appointments, principal, patient_id
        )


@screen_state
class MessagesTab(Screen):
    messages: ChartMessages | None = None
    patient_id: str = ""

    async def _open(self, principal: Principal, patient_id: uuid.UUID) -> None:
        self.messages = await run_service(self, patient_chart.chart_messages, principal, patient_id)
        self.patient_id = str(patient_id)


@screen_state
class RecordsTab(Screen):
    home: RecordsHome | None = None

    @rx.var
    def empty(self) -> bool:
        return self.home is not None and not any(section.count for section in self.home.sections)

    async def _open(self, principal: Principal, patient_id: uuid.UUID) -> None:
        self.home = await run_service(self, records.records_home, principal, patient_id)


@screen_state
class ProfileTab(Screen):
    profile: PatientProfile | None = None

    async def _open(self, principal: Principal, patient_id: uuid.UUID) -> None:
        self.profile = await run_service(self, profiles.read_profile, principal, patient_id)


# --- panels ---------------------------------------------------------------------------------


def summary_panel() -> rx.Component:
    summary = SummaryTab.summary
    return rx.cond(
        summary,
        rx.vstack(
            rx.flex(
                figure("Upcoming appointments", summary.upcoming_appointments),
                figure("Unread messages", summary.unread_messages),
                figure("Open threads", summary.open_threads),
                figure(f"Results, last {summary.recent_days} days", summary.recent_results),
                figure("Results to review", summary.results_to_review),
                gap="1.5rem",
                wrap="wrap",
            ),
            section(
                "Next appointment",
                rx.cond(
                    summary.next_appointment,
                    appointment_details(summary.next_appointment),
                    empty_state(
                        "No appointment booked",
                        "Book one from your schedule (Schedule → Book for a patient).",
                    ),
                ),
                heading_id="chart-next-appointment",
            ),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def appointment_details(card: AppointmentCard) -> rx.Component:
    return rx.vstack(
        rx.text(f"{card.day}, {card.time}", weight="medium"),
        detail_row("With", card.provider),
        detail_row("Visit", f"{card.appointment_type} ({card.modality})"),
        detail_row("Where", rx.cond(card.location != "", card.location, "—")),
        detail_row("Status", card.status),
        spacing="1",
    )


BOOKING_HINT = "Book one from your schedule (Schedule → Book for a patient)."
ADMIN_BOOKING_HINT = "The patient's clinicians book visits from their schedules."
RECORDS_INTRO = "Open records (under the patient's name) to add, correct and review them."
ADMIN_RECORDS_INTRO = (
    "How many records of each kind the patient has, held ones included, and the newest. This "
    "view is read-only."
)
NO_RECORDS_HINT = "Open records (under the patient's name) to add the first one."
ADMIN_NO_RECORDS_HINT = "Records appear here once the patient's clinicians add them."


def appointments_panel(booking_hint: str = BOOKING_HINT) -> rx.Component:
    visits = AppointmentsTab.appointments
    return rx.cond(
        visits,
        rx.vstack(
            section(
                "Upcoming",
                rx.cond(
                    visits.upcoming.length() > 0,
                    appointment_table(visits.upcoming, "Upcoming appointments"),
                    empty_state("No upcoming appointments", booking_hint),
                ),
                heading_id="chart-upcoming",
            ),
            section(
                "Past and cancelled",
                rx.cond(
                    visits.past.length() > 0,
                    appointment_table(visits.past, "Past and cancelled appointments"),
                    empty_state("No past appointments", "Visits appear here once they are over."),
                ),
                heading_id="chart-past",
            ),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def appointment_table(cards: rx.Var[list[AppointmentCard]], label: str) -> rx.Component:
    columns = ("Day", "Time", "Clinician", "Visit", "Where", "Status")
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in columns])
            ),
            rx.table.body(
                rx.foreach(
                    cards,
                    lambda card: rx.table.row(
                        rx.table.row_header_cell(card.day, scope="row"),
                        rx.table.cell(card.time, white_space="nowrap"),
                        rx.table.cell(card.provider),
                        rx.table.cell(f"{card.appointment_type} ({card.modality})"),
                        rx.table.cell(card.location),
                        rx.table.cell(card.status),
                    ),
                )
            ),
            variant="surface",
            width="100%",
            aria_label=label,
        ),
        overflow_x="auto",
        width="100%",
    )


def messages_panel() -> rx.Component:
    messages = MessagesTab.messages
    return rx.cond(
        messages,
        rx.vstack(
            rx.cond(
                messages.threads.length() > 0,
                thread_table(messages.threads),
                empty_state(
                    "No threads with your care teams",
                    "When this patient writes to one of your care teams, the thread appears "
                    "here and in your inbox.",
                ),
            ),
            rx.link(
                "Show this patient's threads in the inbox",
                href=f"{routes.PROVIDER_INBOX}?patient={MessagesTab.patient_id}",
                high_contrast=True,
            ),
            spacing="3",
            width="100%",
        ),
        loading(),
    )


def thread_table(threads: rx.Var[list[ThreadLine]]) -> rx.Component:
    columns = ("Subject", "Category", "Status", "Last activity", "Unread")
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in columns])
            ),
            rx.table.body(
                rx.foreach(
                    threads,
                    lambda line: rx.table.row(
                        rx.table.row_header_cell(
                            rx.link(
                                line.subject,
                                href=f"{routes.PROVIDER_THREAD}?id={line.id}",
                                high_contrast=True,
                            ),
                            scope="row",
                        ),
                        rx.table.cell(line.category),
                        rx.table.cell(line.status),
                        rx.table.cell(line.last_activity, white_space="nowrap"),
                        rx.table.cell(
                            rx.cond(
                                line.unread > 0,
                                rx.badge(
                                    f"{line.unread} unread", color_scheme="red", high_contrast=True
                                ),
                                "None",
                            )
                        ),
                    ),
                )
            ),
            variant="surface",
            width="100%",
            aria_label="Threads",
        ),
        overflow_x="auto",
        width="100%",
    )


def records_panel(intro: str = RECORDS_INTRO, empty_hint: str = NO_RECORDS_HINT) -> rx.Component:
    """How many records of each kind the patient has (held ones included) and the newest, or
    what to do when there are none; the provider's header's "Open records" leads to the
    records themselves."""
    return rx.cond(
        RecordsTab.home,
        rx.cond(
            RecordsTab.empty,
            empty_state("No records yet", empty_hint),
            rx.vstack(rx.text(intro), record_counts(), spacing="3", width="100%"),
        ),
        loading(),
    )


def record_counts() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(label, scope="col")
                        for label in ("Kind", "Records", "Newest")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    RecordsTab.home.sections,
                    lambda section: rx.table.row(
                        rx.table.row_header_cell(section.label),
                        rx.table.cell(section.count),
                        rx.table.cell(rx.cond(section.count > 0, section.latest, "None")),
                    ),
                )
            ),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def profile_panel() -> rx.Component:
    """The profile as the profiles service reads it (audited there as `profile.read`)."""
    return rx.cond(
        ProfileTab.profile,
        profile_view(ProfileTab.profile, heading_prefix="chart"),
        loading(),
    )


# --- the tab list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartTab:
    key: str  # also the `tab=` of a chart link
    label: str
    state: type[rx.State]  # has `async _open(principal, patient_id)`
    panel: Callable[[], rx.Component]


CHART_TABS = [
    ChartTab("summary", "Summary", SummaryTab, summary_panel),
    ChartTab("appointments", "Appointments", AppointmentsTab, appointments_panel),
    ChartTab("messages", "Messages", MessagesTab, messages_panel),
    ChartTab("records", "Records", RecordsTab, records_panel),
    ChartTab("profile", "Profile", ProfileTab, profile_panel),
]
TABS = {tab.key: tab for tab in CHART_TABS}
ADMIN_CHART_TABS = [
    ChartTab(
        "appointments",
        "Appointments",
        AppointmentsTab,
        partial(appointments_panel, ADMIN_BOOKING_HINT),
    ),
    ChartTab(
        "records",
        "Records",
        RecordsTab,
        partial(records_panel, ADMIN_RECORDS_INTRO, ADMIN_NO_RECORDS_HINT),
    ),
    TABS["profile"],
]
ADMIN_TABS = {tab.key: tab for tab in ADMIN_CHART_TABS}

"""Every route of the portal in one table; pages and redirects use these names, never literals."""

from __future__ import annotations

from portal.backend.config import settings
from portal.backend.notify import links
from portal.backend.security.principal import Role

SIGN_IN = links.SIGN_IN
WELCOME = links.WELCOME
RESET_PASSWORD = links.RESET_PASSWORD
FORGOT_PASSWORD = "/forgot-password"  # noqa: S105  (a path)
REGISTER = "/register"
NOT_FOUND = "/404"
# Public pages about the portal, linked from the footer of every shell and from sign-in.
ACCESSIBILITY = "/accessibility"
PRIVACY = "/privacy"
TERMS = "/terms"
ABOUT_PAGES = [
    ("Accessibility", ACCESSIBILITY),
    ("Privacy policy", PRIVACY),
    ("Terms of use", TERMS),
]

PATIENT_HOME = "/"
APPOINTMENTS = links.APPOINTMENTS
BOOK_APPOINTMENT = "/appointments/book"
MESSAGES = links.MESSAGES
MESSAGE_THREAD = "/messages/thread"
RECORDS = links.RECORDS
RECORDS_LIST = "/records/list"
RECORD_DETAIL = "/records/detail"
RECORDS_ACCESS = "/records/access"
# Downloads of records (served by portal/backend/api, not pages).
RECORD_FILES = "/files/records"
HEALTH_RECORD_JSON = "/files/records/health-record.json"
SUMMARY_PDF = "/files/records/summary.pdf"
PROFILE = links.PROFILE
LEARN = "/learn"
LEARN_ARTICLE = "/learn/article"
ONBOARDING = "/welcome/setup"
PROVIDER_HOME = "/provider"
PROVIDER_SCHEDULE = "/provider/schedule"
PROVIDER_HOURS = "/provider/hours"
PROVIDER_INBOX = "/provider/inbox"
PROVIDER_THREAD = "/provider/inbox/thread"
PROVIDER_PATIENTS = "/provider/patients"
PROVIDER_CHART = "/provider/patients/chart"
PROVIDER_RESULTS = "/provider/results"
PROVIDER_RECORDS = "/provider/records"
PROVIDER_PROFILE_CHANGES = "/provider/profile-changes"
ADMIN_HOME = "/admin"
ADMIN_INVITATIONS = "/admin/invitations"
ADMIN_MAILBOX = "/admin/mailbox"
ADMIN_DELIVERY = "/admin/delivery"
ADMIN_SCHEDULING = "/admin/scheduling"
ADMIN_USERS = "/admin/users"
ADMIN_AUDIT = "/admin/audit"
ADMIN_ARTICLES = "/admin/articles"
ADMIN_SETTINGS = "/admin/settings"
ADMIN_ANALYTICS = "/admin/analytics"
ADMIN_CARE_TEAMS = "/admin/care-teams"
ADMIN_BREAK_GLASS = "/admin/break-glass"
ADMIN_EMERGENCY_CHART = "/admin/break-glass/chart"

HOME_OF_ROLE = {
    Role.PATIENT: PATIENT_HOME,
    Role.PROVIDER: PROVIDER_HOME,
    Role.ADMIN: ADMIN_HOME,
}
NOTIFICATIONS_OF_ROLE = {
    Role.PATIENT: "/notifications",
    Role.PROVIDER: "/provider/notifications",
    Role.ADMIN: "/admin/notifications",
}
# Where each role reads its messages; the navigation shows the unread count there.
MESSAGES_OF_ROLE = {Role.PATIENT: MESSAGES, Role.PROVIDER: PROVIDER_INBOX}
SECURITY_OF_ROLE = {
    Role.PATIENT: "/security",
    Role.PROVIDER: "/provider/security",
    Role.ADMIN: "/admin/security",
}

# The navigation of each shell: (label, route).
NAVIGATION = {
    Role.PATIENT: [
        ("Home", PATIENT_HOME),
        ("Appointments", APPOINTMENTS),
        ("Records", RECORDS),
        ("Messages", MESSAGES),
        ("Learn", LEARN),
        ("Profile", PROFILE),
        ("Security", SECURITY_OF_ROLE[Role.PATIENT]),
    ],
    Role.PROVIDER: [
        ("Today", PROVIDER_HOME),
        ("Patients", PROVIDER_PATIENTS),
        ("Inbox", PROVIDER_INBOX),
        ("Results", PROVIDER_RESULTS),
        ("Schedule", PROVIDER_SCHEDULE),
        ("Working hours", PROVIDER_HOURS),
        ("Profile changes", PROVIDER_PROFILE_CHANGES),
        ("Security", SECURITY_OF_ROLE[Role.PROVIDER]),
    ],
    Role.ADMIN: [
        ("Overview", ADMIN_HOME),
        ("Users", ADMIN_USERS),
        ("Care teams", ADMIN_CARE_TEAMS),
        ("Invitations", ADMIN_INVITATIONS),
        ("Delivery", ADMIN_DELIVERY),
        ("Scheduling", ADMIN_SCHEDULING),
        ("Settings", ADMIN_SETTINGS),
        ("Analytics", ADMIN_ANALYTICS),
        ("Audit log", ADMIN_AUDIT),
        ("Break-glass review", ADMIN_BREAK_GLASS),
        ("Articles", ADMIN_ARTICLES),
        *([("Dev mailbox", ADMIN_MAILBOX)] if settings().demo else []),
        ("Security", SECURITY_OF_ROLE[Role.ADMIN]),
    ],
}


def home_of(role: Role | str) -> str:
    return HOME_OF_ROLE[Role(role)]


def patient_chart(patient_id: object, tab: str = "") -> str:
    """A patient's chart (the id is opaque; nothing else about the patient goes in a URL)."""
    return f"{PROVIDER_CHART}?patient={patient_id}" + (f"&tab={tab}" if tab else "")


def emergency_chart(patient_id: object) -> str:
    """An admin's read-only view of a chart opened by break-glass (an opaque id only)."""
    return f"{ADMIN_EMERGENCY_CHART}?patient={patient_id}"

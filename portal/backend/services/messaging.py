"""Secure messages between a patient and their care team (a pool of providers, not one person).

Bodies, subjects and file names are encrypted; attachments are checked by content and stored
through the encrypted file store, downloaded only through the authorizing route. Text is
returned as plain text parts (with http(s) links marked), never as markup, so nothing a user
typed is ever rendered as HTML. A patient sees only their own threads; a provider sees the
threads of the care teams they belong to; admins see none. Anything else answers as missing.

Reading a thread marks the other side's messages read (read receipts both ways). The care
team's replies notify the patient through the outbox, PHI-free.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, case, func, or_, select, update

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    Attachment,
    CareTeam,
    CareTeamMember,
    Conversation,
    ConversationCategory,
    Message,
    Patient,
    Practice,
    Provider,
)
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import notify_patient, portal_link
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import own_patient
from portal.backend.storage import (
    ALLOWED_TYPES,
    IMAGE_TYPES,
    UploadRefused,
    check_upload,
    thumbnail,
)
from portal.backend.views import (
    AttachmentLine,
    Choice,
    InboxPage,
    MessageLine,
    MessagingContext,
    TextPart,
    ThreadLine,
    ThreadView,
    local_moment,
)

BODY_LIMIT = 5000
SUBJECT_LIMIT = 120
FILES_PER_MESSAGE = 5
FILE_LIMIT_BYTES = 10 * 1024 * 1024
PAGE_SIZE = 50
SNIPPET = 120
CATEGORY_LABELS = {
    ConversationCategory.MEDICAL_QUESTION: "Medical question",
    ConversationCategory.APPOINTMENT: "Appointment",
    ConversationCategory.PRESCRIPTION: "Prescription question",
    ConversationCategory.BILLING: "Billing",
    ConversationCategory.OTHER: "Other",
}
NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # sorts threads nobody is waiting on last
LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""


class MessageRefused(Exception):
    """The message cannot be sent as it is; the text says why. Nothing was sent."""


@dataclass(frozen=True)
class NewFile:
    filename: str
    data: bytes


def text_parts(text: str) -> list[list[TextPart]]:
    """Message text as lines of plain parts; only http(s) URLs become link parts."""
    lines = []
    for line in text.split("\n"):
        parts, position = [], 0
        for match in LINK.finditer(line):
            url = match.group(0).rstrip(TRAILING)
            start, end = match.start(), match.start() + len(url)
            if start > position:
                parts.append(TextPart(line[position:start]))
            parts.append(TextPart(url, href=url))
            position = end
        if position < len(line) or not parts:
            parts.append(TextPart(line[position:]))
        lines.append(parts)
    return lines


# --- patients -------------------------------------------------------------------------------


def messaging_home(principal: Principal, *, uow: UnitOfWork) -> MessagingContext:
    """The patient's threads, their care team and the practice's response-time target."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        team = uow.session.get(CareTeam, patient.care_team_id) if patient.care_team_id else None
        practice = uow.session.get(Practice, principal.tenant_id)
        threads = uow.conversations.all(
            uow.conversations.scoped(principal)
            .order_by(Conversation.last_message_at.desc())
            .limit(PAGE_SIZE)
        )
        unread = _unread(uow, [t.id for t in threads], from_patient=False)
        uow.audit.record(
            principal,
            "message.list",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )
        uow.commit()
        return MessagingContext(
            care_team=team.name if team else "",
            response_hours=practice.message_response_hours,
            categories=[Choice(id=c.value, name=label) for c, label in CATEGORY_LABELS.items()],
            threads=[_thread_line(t, unread.get(t.id, 0), practice.time_zone) for t in threads],
        )


def start_thread(
    principal: Principal,
    subject: str,
    category: str,
    body: str,
    files: list[NewFile] = (),
    *,
    care_team_id: uuid.UUID | None = None,
    uow: UnitOfWork,
) -> str:
    """A new thread with the patient's care team; returns its id."""
    require_role(principal, Role.PATIENT)
    subject = subject.strip()
    if not subject:
        raise MessageRefused("Give your message a subject.")
    if len(subject) > SUBJECT_LIMIT:
        raise MessageRefused(f"Keep the subject under {SUBJECT_LIMIT} characters.")
    if category not in {c.value for c in ConversationCategory}:
        raise MessageRefused("Choose what your message is about.")
    body = _body(body)
    checked = _checked_files(files)
    with uow:
        patient = own_patient(uow, principal)
        if patient.care_team_id is None:
            raise MessageRefused("You have no care team yet. Please call the practice.")
        if care_team_id is not None and care_team_id != patient.care_team_id:
            raise MessageRefused("You can message only your own care team.")
        now = utcnow()
        thread = Conversation(
            tenant_id=principal.tenant_id,
            patient_id=patient.id,
            care_team_id=patient.care_team_id,
            subject=subject,
            category=ConversationCategory(category),
            last_message_at=now,
            waiting_since=now,
            created_at=now,
        )
        uow.session.add(thread)
        uow.session.flush()
        _add_message(uow, principal, thread, body, checked, now)
        uow.audit.record(
            principal,
            "message.thread.start",
            resource_type="conversation",
            resource_id=thread.id,
            patient_id=patient.id,
        )
        uow.commit()
        return str(thread.id)


# --- both sides -----------------------------------------------------------------------------


def read_thread(principal: Principal, thread_id: uuid.UUID, *, uow: UnitOfWork) -> ThreadView:
    """The thread, oldest message first; the other side's messages are marked read."""
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    with uow:
        thread = _thread(uow, principal, thread_id)
        now = utcnow()
        uow.session.execute(
            update(Message)
            .where(
                Message.conversation_id == thread.id,
                Message.from_patient.is_(principal.role == Role.PROVIDER),
                Message.read_at.is_(None),
            )
            .values(read_at=now, read_by_user_id=principal.user_id)
        )
        view = _thread_view(uow, principal, thread)
        uow.audit.record(
            principal,
            "message.read",
            resource_type="conversation",
            resource_id=thread.id,
            patient_id=thread.patient_id,
        )
        uow.commit()
        return view


def thread_version(principal: Principal, thread_id: uuid.UUID, *, uow: UnitOfWork) -> str:
    """A cheap fingerprint of the thread (messages and reads), for live views to compare."""
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    with uow:
        thread = _thread(uow, principal, thread_id)
        return _version(uow, thread)


def send_reply(
    principal: Principal,
    thread_id: uuid.UUID,
    body: str,
    files: list[NewFile] = (),
    *,
    uow: UnitOfWork,
) -> None:
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    body = _body(body)
    checked = _checked_files(files)
    with uow:
        thread = _thread(uow, principal, thread_id)
        now = utcnow()
        message = _add_message(uow, principal, thread, body, checked, now)
        thread.last_message_at = now
        if principal.role == Role.PATIENT:
            thread.waiting_since = thread.waiting_since or now
            thread.status = "open"
        else:
            thread.waiting_since = None
            if thread.assigned_provider_id is None:
                thread.assigned_provider_id = principal.provider_id
            notify_patient(
                uow,
                thread.patient_id,
                "new_message",
                {"link": portal_link(links.MESSAGES)},
                event_key=f"message:{message.id}",
            )
        uow.audit.record(
            principal,
            "message.send",
            resource_type="conversation",
            resource_id=thread.id,
            patient_id=thread.patient_id,
        )
        uow.commit()


def unread_messages(principal: Principal, *, uow: UnitOfWork) -> int:
    """Messages from the other side not read yet: for a patient, the care team's replies; for
    a provider, patients' messages to their care teams. Counted without decrypting anything."""
    if principal.role == Role.ADMIN:
        return 0
    with uow:
        query = UNREAD_MESSAGES[principal.role]
        return uow.session.exec(query, params=unread_parameters(principal)).scalar_one()


# Counted on every page load and every two seconds by each shell, so built once, with the
# principal's ids bound when it runs (`unread_parameters`).
_UNREAD = (
    select(func.count())
    .select_from(Message)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(Conversation.tenant_id == bindparam("tenant_id"), Message.read_at.is_(None))
)
UNREAD_MESSAGES = {
    Role.PATIENT: _UNREAD.where(
        Conversation.patient_id == bindparam("patient_id"), Message.from_patient.is_(False)
    ),
    Role.PROVIDER: _UNREAD.where(
        Conversation.care_team_id.in_(
            select(CareTeamMember.care_team_id).where(
                CareTeamMember.provider_id == bindparam("provider_id")
            )
        ),
        Message.from_patient.is_(True),
    ),
}


def unread_parameters(principal: Principal) -> dict:
    return {
        "tenant_id": principal.tenant_id,
        "user_id": principal.user_id,
        "patient_id": principal.patient_id,
        "provider_id": principal.provider_id,
    }


# --- the care team --------------------------------------------------------------------------


def inbox(
    principal: Principal,
    *,
    status: str = "open",
    category: str = "",
    assignee: str = "",
    patient_id: uuid.UUID | None = None,
    after: str = "",
    uow: UnitOfWork,
) -> InboxPage:
    """A page of the care teams' threads, longest-waiting first, then the most recent; keyset
    pagination (`after` is the last line's key), subjects and names decrypted only for the
    page. `assignee` is "me", "nobody" or a provider id."""
    require_role(principal, Role.PROVIDER)
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        # Threads without a wait sort after every waiting one, by last activity (newest first).
        wait_key = func.coalesce(Conversation.waiting_since, NEVER)
        query = select(Conversation).where(
            Conversation.tenant_id == principal.tenant_id,
            Conversation.care_team_id.in_(_teams_of(principal)),
        )
        if status in ("open", "done"):
            query = query.where(Conversation.status == status)
        if category:
            query = query.where(Conversation.category == category)
        if assignee == "me":
            query = query.where(Conversation.assigned_provider_id == principal.provider_id)
        elif assignee == "nobody":
            query = query.where(Conversation.assigned_provider_id.is_(None))
        elif assignee:
            query = query.where(Conversation.assigned_provider_id == _uuid(assignee))
        if patient_id is not None:
            query = query.where(Conversation.patient_id == patient_id)
        if after:
            waited, last, thread = _cursor(after)
            query = query.where(
                or_(
                    wait_key > waited,
                    (wait_key == waited) & (Conversation.last_message_at < last),
                    (wait_key == waited)
                    & (Conversation.last_message_at == last)
                    & (Conversation.id > thread),
                )
            )
        threads = uow.conversations.all(
            query.order_by(wait_key, Conversation.last_message_at.desc(), Conversation.id).limit(
                PAGE_SIZE + 1
            )
        )
        more = len(threads) > PAGE_SIZE
        threads = threads[:PAGE_SIZE]
        ids = [t.id for t in threads]
        unread = _unread(uow, ids, from_patient=True)
        patients = _by_id(uow, Patient, {t.patient_id for t in threads})
        names = _provider_names(uow, {t.assigned_provider_id for t in threads} - {None})
        snippets = _latest_bodies(uow, ids)
        now = utcnow()
        target = timedelta(hours=practice.message_response_hours)
        lines = []
        for t in threads:
            patient = patients[t.patient_id]
            line = _thread_line(t, unread.get(t.id, 0), practice.time_zone)
            lines.append(
                ThreadLine(
                    **{
                        **line.__dict__,
                        "patient": patient.full_name,
                        "patient_id": str(patient.id),
                        "assigned": names.get(t.assigned_provider_id, ""),
                        "waiting": _waited(now - t.waiting_since) if t.waiting_since else "",
                        "overdue": bool(t.waiting_since and now - t.waiting_since > target),
                        "snippet": snippets.get(t.id, "")[:SNIPPET],
                    }
                )
            )
        uow.audit.record(principal, "message.inbox.read", resource_type="inbox")
        uow.commit()
        last = threads[-1] if threads else None
        return InboxPage(
            lines=lines,
            next_after=_key_of(last) if more and last else "",
            target_hours=practice.message_response_hours,
        )


def inbox_version(principal: Principal, *, uow: UnitOfWork) -> str:
    """A fingerprint of the provider's teams' threads (how many, the latest activity, unread
    and waiting counts): a live inbox re-reads its page only when this changes. Reads no PHI,
    so it is not audited."""
    require_role(principal, Role.PROVIDER)
    with uow:
        threads, latest, waiting, done = uow.session.exec(
            select(
                func.count(),
                func.max(Conversation.last_message_at),
                func.count(Conversation.waiting_since),
                func.count(case((Conversation.status == "done", 1))),
            ).where(
                Conversation.tenant_id == principal.tenant_id,
                Conversation.care_team_id.in_(_teams_of(principal)),
            )
        ).one()
    unread = unread_messages(principal, uow=uow)
    return f"{threads}:{latest}:{waiting}:{done}:{unread}"


def team_members(
    principal: Principal, thread_id: uuid.UUID | None = None, *, uow: UnitOfWork
) -> list[Choice]:
    """Clinicians to assign a thread to: those of its care team (or, without a thread, of all
    the provider's care teams)."""
    require_role(principal, Role.PROVIDER)
    with uow:
        teams = (
            select(Conversation.care_team_id).where(
                Conversation.id == _thread(uow, principal, thread_id).id
            )
            if thread_id is not None
            else _teams_of(principal)
        )
        rows = uow.session.exec(
            select(Provider)
            .join(CareTeamMember, CareTeamMember.provider_id == Provider.id)
            .where(CareTeamMember.care_team_id.in_(teams))
            .order_by(Provider.display_name)
            .distinct()
        ).scalars()
        return [Choice(id=str(p.id), name=p.display_name) for p in rows]


def assign(
    principal: Principal, thread_id: uuid.UUID, provider_id: uuid.UUID, *, uow: UnitOfWork
) -> None:
    """Hand the thread to a colleague on its care team."""
    require_role(principal, Role.PROVIDER)
    with uow:
        thread = _thread(uow, principal, thread_id)
        member = uow.session.exec(
            select(CareTeamMember.provider_id).where(
                CareTeamMember.care_team_id == thread.care_team_id,
                CareTeamMember.provider_id == provider_id,
            )
        ).first()
        if member is None:
            raise MessageRefused("Choose someone on this patient's care team.")
        thread.assigned_provider_id = provider_id
        uow.audit.record(
            principal,
            "message.thread.assign",
            resource_type="conversation",
            resource_id=thread.id,
            patient_id=thread.patient_id,
        )
        uow.commit()


def mark_done(principal: Principal, thread_id: uuid.UUID, done: bool, *, uow: UnitOfWork) -> None:
    """Close the thread (nothing more to do) or reopen it. A patient's new message reopens."""
    require_role(principal, Role.PROVIDER)
    with uow:
        thread = _thread(uow, principal, thread_id)
        thread.status = "done" if done else "open"
        if done:
            thread.waiting_since = None
        uow.audit.record(
            principal,
            "message.thread.done" if done else "message.thread.reopen",
            resource_type="conversation",
            resource_id=thread.id,
            patient_id=thread.patient_id,
        )
        uow.commit()


# --- internals ------------------------------------------------------------------------------


def _teams_of(principal: Principal):
    return select(CareTeamMember.care_team_id).where(
        CareTeamMember.provider_id == principal.provider_id
    )


def _thread(uow: UnitOfWork, principal: Principal, thread_id: uuid.UUID) -> Conversation:
    """The thread if the caller may see it: the patient's own, or one of the provider's
    teams'. Admins and everyone else get NotFound."""
    query = uow.conversations.scoped(principal).where(Conversation.id == thread_id)
    if principal.role == Role.PROVIDER:
        query = query.where(Conversation.care_team_id.in_(_teams_of(principal)))
    elif principal.role != Role.PATIENT:
        raise NotFound
    thread = uow.conversations.first(query)
    if thread is None:
        raise NotFound
    return thread


def _body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise MessageRefused("Write your message before sending it.")
    if len(body) > BODY_LIMIT:
        raise MessageRefused(
            f"Messages can be up to {BODY_LIMIT:,} characters; this one has {len(body):,}. "
            "Please shorten it, or send it in two parts."
        )
    return body


def _checked_files(files) -> list[tuple[str, str, bytes]]:
    """(safe name, content type, bytes) for each file, checked by content, not by name."""
    files = list(files)
    if len(files) > FILES_PER_MESSAGE:
        raise MessageRefused(f"Attach at most {FILES_PER_MESSAGE} files to one message.")
    checked = []
    for file in files:
        name = _safe_filename(file.filename)
        try:
            content_type = check_upload(file.data, max_bytes=FILE_LIMIT_BYTES)
        except UploadRefused as refused:
            raise MessageRefused(f"{name}: {refused}") from None
        checked.append((name, content_type, file.data))
    return checked


def _safe_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:120] or "file"


def _add_message(
    uow: UnitOfWork,
    principal: Principal,
    thread: Conversation,
    body: str,
    files: list[tuple[str, str, bytes]],
    now: datetime,
) -> Message:
    message = Message(
        tenant_id=thread.tenant_id,
        conversation_id=thread.id,
        sender_user_id=principal.user_id,
        from_patient=principal.role == Role.PATIENT,
        body=body,
        sent_at=now,
    )
    uow.session.add(message)
    uow.session.flush()
    for name, content_type, data in files:
        preview = thumbnail(data) if content_type in IMAGE_TYPES else None
        uow.session.add(
            Attachment(
                tenant_id=thread.tenant_id,
                message_id=message.id,
                storage_key=uow.files.put(data, content_type),
                content_type=content_type,
                size_bytes=len(data),
                filename=name,
                thumbnail_key=uow.files.put(preview, "image/png") if preview else None,
            )
        )
    return message


def _unread(uow: UnitOfWork, thread_ids: list, *, from_patient: bool) -> dict:
    if not thread_ids:
        return {}
    return dict(
        uow.session.exec(
            select(Message.conversation_id, func.count())
            .where(
                Message.conversation_id.in_(thread_ids),
                Message.from_patient.is_(from_patient),
                Message.read_at.is_(None),
            )
            .group_by(Message.conversation_id)
        ).all()
    )


def _by_id(uow: UnitOfWork, model, ids: set) -> dict:
    if not ids:
        return {}
    return {
        row.id: row for row in uow.session.exec(select(model).where(model.id.in_(ids))).scalars()
    }


def _provider_names(uow: UnitOfWork, ids: set) -> dict:
    return {p.id: p.display_name for p in _by_id(uow, Provider, ids).values()}


def _latest_bodies(uow: UnitOfWork, thread_ids: list) -> dict:
    """The newest message of each thread of the page (decrypting only those)."""
    if not thread_ids:
        return {}
    newest = (
        select(Message.conversation_id, func.max(Message.sent_at).label("sent_at"))
        .where(Message.conversation_id.in_(thread_ids))
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = uow.session.exec(
        select(Message).join(
            newest,
            (Message.conversation_id == newest.c.conversation_id)
            & (Message.sent_at == newest.c.sent_at),
        )
    ).scalars()
    return {m.conversation_id: m.body.replace("\n", " ") for m in rows}


def _thread_line(thread: Conversation, unread: int, zone: str) -> ThreadLine:
    return ThreadLine(
        id=str(thread.id),
        subject=thread.subject,
        category=CATEGORY_LABELS[ConversationCategory(thread.category)],
        status="Done" if thread.status == "done" else "Open",
        last_activity=local_moment(thread.last_message_at, zone),
        unread=unread,
    )


def _waited(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound from None


def _key_of(thread: Conversation) -> str:
    waited = thread.waiting_since.isoformat() if thread.waiting_since else ""
    return f"{waited}|{thread.last_message_at.isoformat()}|{thread.id}"


def _cursor(after: str) -> tuple[datetime, datetime, uuid.UUID]:
    try:
        waited, last, thread = after.split("|")
        return (
            datetime.fromisoformat(waited) if waited else NEVER,
            datetime.fromisoformat(last),
            uuid.UUID(thread),
        )
    except ValueError:
        raise NotFound from None


def _version(uow: UnitOfWork, thread: Conversation) -> str:
    count, newest, reads = uow.session.exec(
        select(func.count(), func.max(Message.sent_at), func.count(Message.read_at)).where(
            Message.conversation_id == thread.id
        )
    ).one()
    return f"{count}:{newest.isoformat() if newest else ''}:{reads}:{thread.status}"


def _thread_view(uow: UnitOfWork, principal: Principal, thread: Conversation) -> ThreadView:
    zone = uow.session.get(Practice, thread.tenant_id).time_zone
    messages = list(
        uow.session.exec(
            select(Message)
            .where(Message.conversation_id == thread.id)
            .order_by(Message.sent_at, Message.id)
        ).scalars()
    )
    files: dict = {}
    for attachment in uow.session.exec(
        select(Attachment).where(Attachment.message_id.in_([m.id for m in messages]))
    ).scalars():
        files.setdefault(attachment.message_id, []).append(attachment)
    staff = {
        p.user_id: p
        for p in uow.session.exec(
            select(Provider).where(
                Provider.user_id.in_({m.sender_user_id for m in messages} - {None})
            )
        ).scalars()
    }
    viewer_is_patient = principal.role == Role.PATIENT
    # The patient's own name is never shown to them: their row (PHI, decrypted on load) is
    # read only for staff.
    patient = None if viewer_is_patient else uow.session.get(Patient, thread.patient_id)
    team = uow.session.get(CareTeam, thread.care_team_id)
    assigned = (
        uow.session.get(Provider, thread.assigned_provider_id)
        if thread.assigned_provider_id
        else None
    )
    lines = []
    for m in messages:
        mine = m.from_patient == viewer_is_patient
        if m.from_patient:
            sender = "You" if viewer_is_patient else patient.full_name
        else:
            provider = staff.get(m.sender_user_id)
            sender = provider.display_name if provider else team.name
        receipt = ""
        if mine:
            other = "the care team" if viewer_is_patient else "the patient"
            receipt = (
                f"Read by {other} at {local_moment(m.read_at, zone)}"
                if m.read_at
                else "Not read yet"
            )
        lines.append(
            MessageLine(
                id=str(m.id),
                mine=mine,
                sender=sender,
                sent=local_moment(m.sent_at, zone),
                lines=text_parts(m.body),
                attachments=[
                    AttachmentLine(
                        id=str(a.id),
                        filename=a.filename,
                        size=_size(a.size_bytes),
                        kind=ALLOWED_TYPES.get(a.content_type, "file"),
                        preview=a.thumbnail_key is not None,
                    )
                    for a in files.get(m.id, [])
                ],
                receipt=receipt,
            )
        )
    now = utcnow()
    return ThreadView(
        id=str(thread.id),
        subject=thread.subject,
        category=CATEGORY_LABELS[ConversationCategory(thread.category)],
        status="Done" if thread.status == "done" else "Open",
        care_team=team.name,
        patient=patient.full_name if patient else "",
        assigned=assigned.display_name if assigned else "",
        assigned_id=str(assigned.id) if assigned else "",
        waiting=_waited(now - thread.waiting_since) if thread.waiting_since else "",
        messages=lines,
        version=_version(uow, thread),
    )


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"

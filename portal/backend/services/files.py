"""Downloading stored files, only after the caller is authorized for the record they belong to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import Attachment, CareTeamMember, Conversation, Message
from portal.backend.security.principal import NotFound, Principal, Role


@dataclass(frozen=True)
class FileDownload:
    filename: str
    content_type: str
    data: bytes | None = None
    link: str | None = None


def download_attachment(
    principal: Principal, attachment_id: uuid.UUID, *, preview: bool = False, uow: UnitOfWork
) -> FileDownload:
    """The attachment (or, with `preview`, its thumbnail) of a message in a thread the caller
    may read: the patient's own, or one of a provider's care teams'. Anything else, including
    an admin without a recorded reason, answers as if it did not exist."""
    with uow:
        query = (
            select(Attachment, Conversation.patient_id)
            .join(Message, Message.id == Attachment.message_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Attachment.id == attachment_id, Attachment.tenant_id == principal.tenant_id)
        )
        if principal.role == Role.PATIENT:
            query = query.where(Conversation.patient_id == principal.patient_id)
        elif principal.role == Role.PROVIDER:
            query = query.where(
                Conversation.care_team_id.in_(
                    select(CareTeamMember.care_team_id).where(
                        CareTeamMember.provider_id == principal.provider_id
                    )
                )
            )
        row = uow.session.exec(query).first() if principal.role != Role.ADMIN else None
        if row is not None and preview and row[0].thumbnail_key is None:
            row = None
        if row is None:
            uow.audit.record(
                principal,
                "attachment.download",
                outcome="denied",
                resource_type="attachment",
                resource_id=attachment_id,
            )
            uow.commit()
            raise NotFound
        attachment, patient_id = row
        uow.audit.record(
            principal,
            "attachment.download",
            resource_type="attachment",
            resource_id=attachment.id,
            patient_id=patient_id,
        )
        uow.commit()
        if preview:
            return FileDownload(
                f"Preview of {attachment.filename}.png",
                "image/png",
                uow.files.get(attachment.thumbnail_key),
            )
        link = uow.files.link(
            attachment.storage_key,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        data = None if link else uow.files.get(attachment.storage_key)
        return FileDownload(attachment.filename, attachment.content_type, data, link)

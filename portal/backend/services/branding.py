"""The practice's branding: its logo, uploaded by admins, and what every page shows of it —
the practice's name, the style sheet of its primary colour (`palette`) and the logo's address.
The colour itself is saved with the other settings (`practice_settings`).

A logo is a PNG or JPEG of at most 1 MB (never SVG, which can carry script), told by its bytes
and re-encoded by Pillow without its metadata before it is stored in the file store. It is
public, like the practice's name: `/files/brand/<practice id>/logo` serves it to anyone, the
sign-in page included. Nothing here is PHI, so reading the brand is not audited; uploading and
removing the logo are (`practice.logo.save`, `practice.logo.remove`, details `logo`)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import Row, bindparam, select

from portal.backend.db import UnitOfWork
from portal.backend.models import Practice
from portal.backend.palette import theme_css
from portal.backend.security.principal import Principal, Role, require_role
from portal.backend.storage import ImageRefused, UploadRefused, clean_image

LOGO_LIMIT_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000 * 4000
LOGO_REFUSALS = {
    "not_an_image": "The logo must be a PNG or JPEG image; this file is neither (SVG and other "
    "kinds of file are not accepted).",
    "unreadable": "This file is not a picture we can read, whatever its name says. Choose a "
    "PNG or JPEG image.",
    "too_many_pixels": "The logo has too many pixels; choose an image of at most 4000 by 4000.",
}


class LogoRefused(Exception):
    """The file cannot be the practice's logo; the message says why in plain words."""


@dataclass(frozen=True)
class Brand:
    """What every page shows of the practice; empty values mean the portal's own look."""

    practice: str
    theme_css: str
    logo_url: str


def brand(practice_id: uuid.UUID | None, *, uow: UnitOfWork) -> Brand:
    """The brand of the signed-in person's practice, or (signed out) the portal's practice:
    the first one, as the sign-in and public pages use."""
    with uow:
        practice = None
        if practice_id:
            practice = uow.session.exec(_BRAND_OF, params={"practice_id": practice_id}).first()
        if practice is None:
            practice = uow.session.exec(_FIRST_BRAND).first()
        if practice is None:
            return Brand(practice="", theme_css="", logo_url="")
        return Brand(
            practice=practice.name,
            theme_css=theme_css(practice.brand_colour),
            logo_url=logo_url(practice),
        )


# Read by every page's guard: the brand's columns only, in statements built once.
_BRAND = select(Practice.id, Practice.name, Practice.brand_colour, Practice.logo_storage_key)
_BRAND_OF = _BRAND.where(Practice.id == bindparam("practice_id"))
_FIRST_BRAND = _BRAND.order_by(Practice.created_at).limit(1)


def upload_logo(principal: Principal, data: bytes, *, uow: UnitOfWork) -> str:
    """Store `data` as the practice's logo (replacing any) and answer its address; refused
    (`LogoRefused`, nothing stored) for an empty or oversize file or anything but a PNG or
    JPEG picture."""
    require_role(principal, Role.ADMIN)
    try:
        image, content_type = clean_image(
            data, max_bytes=LOGO_LIMIT_BYTES, max_pixels=LOGO_MAX_PIXELS
        )
    except ImageRefused as refused:
        raise LogoRefused(LOGO_REFUSALS[refused.reason]) from None
    except UploadRefused as refused:
        raise LogoRefused(str(refused)) from None
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        old_key = practice.logo_storage_key
        practice.logo_storage_key = uow.files.put(image, content_type)
        practice.logo_content_type = content_type
        uow.audit.record(
            principal,
            "practice.logo.save",
            resource_type="practice",
            resource_id=practice.id,
            details="logo",
        )
        uow.commit()
        if old_key:
            uow.files.delete(old_key)
        return logo_url(practice)


def remove_logo(principal: Principal, *, uow: UnitOfWork) -> bool:
    """The portal's own look again instead of the logo; False when there was none."""
    require_role(principal, Role.ADMIN)
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        old_key = practice.logo_storage_key
        if old_key is None:
            return False
        practice.logo_storage_key = practice.logo_content_type = None
        uow.audit.record(
            principal,
            "practice.logo.remove",
            resource_type="practice",
            resource_id=practice.id,
            details="logo",
        )
        uow.commit()
        uow.files.delete(old_key)
        return True


def logo_file(practice_id: uuid.UUID, *, uow: UnitOfWork) -> tuple[bytes, str] | None:
    """The practice's logo and its content type, for the public route; None when it has
    none (or there is no such practice)."""
    with uow:
        practice = uow.session.get(Practice, practice_id)
        if practice is None or practice.logo_storage_key is None:
            return None
        return uow.files.get(practice.logo_storage_key), practice.logo_content_type


def logo_url(practice: Practice | Row) -> str:
    """The logo's address, which changes with each new logo (so a cached one is never shown
    for the next); "" when there is none."""
    if practice.logo_storage_key is None:
        return ""
    version = hashlib.sha256(practice.logo_storage_key.encode()).hexdigest()[:10]
    return f"/files/brand/{practice.id}/logo?v={version}"

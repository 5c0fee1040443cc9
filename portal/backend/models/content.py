"""Health education articles the practice publishes to its patients' Learn page (not PHI)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field

from portal.backend.models.base import TenantTable, instant


class Article(TenantTable, table=True):
    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_tenant_published", "tenant_id", "published_at"),)

    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=400)
    # Restricted markdown: headings, paragraphs, lists, bold, italic and http(s) links.
    body: str = Field(sa_type=Text)
    # Conditions the article is about, comma-separated and lower case, e.g. "diabetes,diet".
    tags: str = Field(default="", max_length=400)
    published_at: datetime | None = instant(required=False)
    author_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = instant()
    updated_at: datetime = instant()

"""Health education: admins write articles in restricted markdown, tag them by condition and
publish them; patients read the published ones of their practice on the Learn page.

Articles are not PHI. What a patient reads is not audited: the log would otherwise record which
conditions a patient reads about.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.markdown import blocks
from portal.backend.models import Article, Practice
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.views import ArticleDraft, ArticleLine, ArticleView, LearnPage, local_day

TITLE_LIMIT = 200
SUMMARY_LIMIT = 400
BODY_LIMIT = 20_000
TAG_LIMIT = 10
TAG = re.compile(r"[a-z0-9][a-z0-9 '-]{0,39}")


class ArticleInvalid(Exception):
    """The article was refused; `errors` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- admins ---------------------------------------------------------------------------------


def articles_for_admin(principal: Principal, *, uow: UnitOfWork) -> list[ArticleLine]:
    """Every article of the practice, drafts first, then the newest."""
    require_role(principal, Role.ADMIN)
    with uow:
        zone = _zone(uow, principal)
        rows = uow.session.exec(
            _of_practice(principal).order_by(
                Article.published_at.is_not(None), Article.updated_at.desc()
            )
        ).scalars()
        return [_line(row, zone) for row in rows]


def article_draft(principal: Principal, article_id: uuid.UUID, *, uow: UnitOfWork) -> ArticleDraft:
    require_role(principal, Role.ADMIN)
    with uow:
        article = _article(uow, principal, article_id)
        return ArticleDraft(
            id=str(article.id),
            title=article.title,
            summary=article.summary,
            body=article.body,
            tags=article.tags.replace(",", ", "),
            published=article.published_at is not None,
        )


def save_article(
    principal: Principal,
    article_id: uuid.UUID | None,
    title: str,
    summary: str,
    body: str,
    tags: str,
    *,
    uow: UnitOfWork,
) -> str:
    """Create (no id) or change an article; returns its id. A published article stays
    published with its changes."""
    require_role(principal, Role.ADMIN)
    title, summary, body = title.strip(), summary.strip(), body.strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > TITLE_LIMIT:
        errors["title"] = f"The title can be at most {TITLE_LIMIT} characters."
    if len(summary) > SUMMARY_LIMIT:
        errors["summary"] = f"The summary can be at most {SUMMARY_LIMIT} characters."
    if not body:
        errors["body"] = "Write the article."
    elif len(body) > BODY_LIMIT:
        errors["body"] = f"The article can be at most {BODY_LIMIT:,} characters."
    tag_list = [tag.strip().lower() for tag in tags.split(",") if tag.strip()]
    if len(tag_list) > TAG_LIMIT:
        errors["tags"] = f"Use at most {TAG_LIMIT} tags."
    elif any(not TAG.fullmatch(tag) for tag in tag_list):
        errors["tags"] = (
            "Tags are words such as diabetes or heart health, separated by commas "
            "(letters, digits, spaces and hyphens, up to 40 characters each)."
        )
    if errors:
        raise ArticleInvalid(errors)
    with uow:
        if article_id is None:
            article = Article(tenant_id=principal.tenant_id, author_user_id=principal.user_id)
            uow.session.add(article)
        else:
            article = _article(uow, principal, article_id)
        article.title, article.summary, article.body = title, summary, body
        article.tags = ",".join(dict.fromkeys(tag_list))
        article.updated_at = utcnow()
        uow.session.flush()
        uow.audit.record(
            principal,
            "article.create" if article_id is None else "article.update",
            resource_type="article",
            resource_id=article.id,
        )
        uow.commit()
        return str(article.id)


def set_published(
    principal: Principal, article_id: uuid.UUID, published: bool, *, uow: UnitOfWork
) -> None:
    """Publish an article to the patients' Learn page, or take it back to a draft."""
    require_role(principal, Role.ADMIN)
    with uow:
        article = _article(uow, principal, article_id)
        if published == (article.published_at is not None):
            return
        article.published_at = utcnow() if published else None
        uow.audit.record(
            principal,
            "article.publish" if published else "article.unpublish",
            resource_type="article",
            resource_id=article.id,
        )
        uow.commit()


# --- patients ---------------------------------------------------------------------------------


def learn(principal: Principal, tag: str = "", *, uow: UnitOfWork) -> LearnPage:
    """The practice's published articles, newest first, optionally those with one tag; and
    every tag in use, for the filter."""
    require_role(principal, Role.PATIENT)
    with uow:
        zone = _zone(uow, principal)
        rows = list(
            uow.session.exec(_published(principal).order_by(Article.published_at.desc())).scalars()
        )
        tags = sorted({tag for row in rows for tag in _tags(row)})
        wanted = tag.strip().lower()
        shown = [row for row in rows if not wanted or wanted in _tags(row)]
        return LearnPage(tags=tags, articles=[_line(row, zone) for row in shown])


def read_article(principal: Principal, article_id: uuid.UUID, *, uow: UnitOfWork) -> ArticleView:
    """One published article of the patient's practice (a draft or another practice's
    article answers as one that does not exist)."""
    require_role(principal, Role.PATIENT)
    with uow:
        article = (
            uow.session.exec(_published(principal).where(Article.id == article_id))
            .scalars()
            .first()
        )
        if article is None:
            raise NotFound
        return _view(article, _zone(uow, principal))


# --- inside -----------------------------------------------------------------------------------


def _of_practice(principal: Principal):
    return select(Article).where(Article.tenant_id == principal.tenant_id)


def _published(principal: Principal):
    return _of_practice(principal).where(
        Article.published_at.is_not(None), Article.published_at <= utcnow()
    )


def _article(uow: UnitOfWork, principal: Principal, article_id: uuid.UUID) -> Article:
    article = (
        uow.session.exec(_of_practice(principal).where(Article.id == article_id)).scalars().first()
    )
    if article is None:
        raise NotFound
    return article


def _tags(article: Article) -> list[str]:
    return [tag for tag in article.tags.split(",") if tag]


def _line(article: Article, zone: str) -> ArticleLine:
    return ArticleLine(
        id=str(article.id),
        title=article.title,
        summary=article.summary,
        tags=_tags(article),
        published=local_day(article.published_at, zone) if article.published_at else "",
        updated=local_day(article.updated_at, zone),
    )


def _view(article: Article, zone: str) -> ArticleView:
    return ArticleView(
        id=str(article.id),
        title=article.title,
        summary=article.summary,
        tags=_tags(article),
        published=local_day(article.published_at, zone),
        blocks=blocks(article.body),
    )


def _zone(uow: UnitOfWork, principal: Principal) -> str:
    return uow.session.get(Practice, principal.tenant_id).time_zone

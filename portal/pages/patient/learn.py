"""The patient's Learn page: health education articles the practice has published, by
condition, and one article to read."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import articles
from portal.backend.views import ArticleLine, ArticleView, LearnPage
from portal.components.articles import article_body, tag_list
from portal.components.feedback import empty_state
from portal.components.forms import EntryInvalid, record_id
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in


@screen_state
class LearnState(Screen):
    page: LearnPage | None = None
    tag: str = ""

    @rx.event
    async def load(self):
        self.reset()
        await self._refresh()

    @rx.event
    async def choose_tag(self, tag: str):
        self.tag = tag[:40]
        await self._refresh()

    async def _refresh(self) -> None:
        principal = await signed_in(self, Role.PATIENT)
        if principal is not None:
            self.page = await run_service(self, articles.learn, principal, self.tag)


@screen_state
class ArticleState(Screen):
    article: ArticleView | None = None
    missing: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        try:
            article_id = record_id(self.router.url.query_parameters.get("id", "")[:40])
            self.article = await run_service(self, articles.read_article, principal, article_id)
        except (EntryInvalid, NotFound):
            self.missing = True


@portal_page(routes.LEARN, title="Learn", role=Role.PATIENT, on_load=LearnState.load)
def learn_page() -> rx.Component:
    page = LearnState.page
    return rx.vstack(
        rx.heading("Learn", as_="h1", size="7"),
        rx.text("Articles from your care team about health conditions and staying well."),
        rx.cond(
            page,
            rx.vstack(
                rx.cond(page.tags.length() > 0, tag_filter(page.tags)),
                rx.cond(
                    page.articles.length() > 0,
                    rx.vstack(rx.foreach(page.articles, article_card), spacing="3", width="100%"),
                    empty_state(
                        "No articles yet",
                        "When your practice publishes articles about health conditions, they "
                        "appear here.",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
    )


def tag_filter(tags: rx.Var[list[str]]) -> rx.Component:
    def choice(tag: rx.Var[str], label: rx.Var[str] | str) -> rx.Component:
        chosen = LearnState.tag == tag
        return rx.button(
            label,
            on_click=LearnState.choose_tag(tag),
            variant=rx.cond(chosen, "solid", "outline"),
            aria_pressed=rx.cond(chosen, "true", "false"),
            high_contrast=True,
            size="2",
        )

    return rx.hstack(
        rx.text("Show:", weight="medium"),
        choice("", "All"),
        rx.foreach(tags, lambda tag: choice(tag, tag)),
        spacing="2",
        wrap="wrap",
        role="group",
        aria_label="Show articles about",
    )


def article_card(line: ArticleLine) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.link(
                rx.heading(line.title, as_="h2", size="4"),
                href=f"{routes.LEARN_ARTICLE}?id={line.id}",
                high_contrast=True,
            ),
            rx.cond(line.summary != "", rx.text(line.summary)),
            tag_list(line.tags),
            spacing="2",
        ),
        width="100%",
    )


@portal_page(routes.LEARN_ARTICLE, title="Article", role=Role.PATIENT, on_load=ArticleState.load)
def article_page() -> rx.Component:
    article = ArticleState.article
    return rx.vstack(
        rx.link("← All articles", href=routes.LEARN, high_contrast=True),
        rx.cond(
            article,
            rx.vstack(
                rx.heading(article.title, as_="h1", size="7"),
                rx.text(f"Published {article.published}", size="2", color_scheme="gray"),
                tag_list(article.tags),
                rx.cond(article.summary != "", rx.text(article.summary, size="4")),
                article_body(article.blocks),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                ArticleState.missing,
                rx.vstack(
                    rx.heading("This article is not available", as_="h1", size="6"),
                    rx.text("It may have been taken down. Choose another on the Learn page."),
                    spacing="2",
                ),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
    )

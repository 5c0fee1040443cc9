"""Health education articles, for admins: the practice's articles, an editor with a preview of
the restricted markdown, and publishing to the patients' Learn page."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.markdown import blocks
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import articles
from portal.backend.services.articles import BODY_LIMIT, ArticleInvalid
from portal.backend.views import ArticleBlock, ArticleDraft, ArticleLine
from portal.components.articles import article_body, tag_list
from portal.components.cards import section
from portal.components.feedback import empty_state, notice
from portal.components.forms import EntryInvalid, record_id, text_of
from portal.components.profile import field_error, form_errors_summary, text_field
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

GONE = "That article is no longer in this practice's list."
FORMAT_HINT = (
    "## for a heading, ### for a smaller one, - for a list item, **bold**, *italic*, "
    "[words](https://link). A blank line starts a new paragraph."
)


@screen_state
class ArticlesState(Screen):
    lines: list[ArticleLine] = []
    loaded: bool = False
    # The article in the editor ("" id: a new one); `editing` opens the editor.
    draft: ArticleDraft | None = None
    editing: bool = False
    preview: list[ArticleBlock] = []
    errors: dict[str, str] = {}
    message: str = ""

    @rx.event
    async def load(self):
        self.reset()
        await self._refresh()

    @rx.event
    def new(self):
        self.draft = ArticleDraft("", "", "", "", "", False)
        self.editing, self.preview, self.errors, self.message = True, [], {}, ""

    @rx.event
    async def edit(self, article_id: str):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            self.draft = await run_service(
                self, articles.article_draft, principal, record_id(article_id[:40])
            )
        except (EntryInvalid, NotFound):
            self.message = GONE
            return
        self.editing, self.preview, self.errors, self.message = True, [], {}, ""

    @rx.event
    def close(self):
        self.editing, self.draft, self.preview, self.errors = False, None, [], {}

    @rx.event
    def show_preview(self, text: str):
        self.preview = blocks(str(text)[:BODY_LIMIT])

    @rx.event
    async def save(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None or self.draft is None:
            return
        try:
            article_id = record_id(self.draft.id) if self.draft.id else None
            await run_service(
                self,
                articles.save_article,
                principal,
                article_id,
                text_of(form_data, "title", 400),
                text_of(form_data, "summary", 800),
                text_of(form_data, "body", BODY_LIMIT + 1),
                text_of(form_data, "tags", 600),
            )
        except ArticleInvalid as refused:
            self.errors = refused.errors
            return
        except (EntryInvalid, NotFound):
            self.errors = {"form": GONE}
            return
        self.message = "The article is saved."
        self.close()
        await self._refresh()

    @rx.event
    async def publish(self, article_id: str, published: bool):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            await run_service(
                self, articles.set_published, principal, record_id(article_id[:40]), published
            )
        except (EntryInvalid, NotFound):
            self.message = GONE
            return
        self.message = (
            "The article is on the patients' Learn page."
            if published
            else "The article is a draft again; patients no longer see it."
        )
        await self._refresh()

    async def _refresh(self) -> None:
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            self.lines = await run_service(self, articles.articles_for_admin, principal)
            self.loaded = True


@portal_page(routes.ADMIN_ARTICLES, title="Articles", role=Role.ADMIN, on_load=ArticlesState.load)
def articles_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Health education articles", as_="h1", size="7"),
        rx.text(
            "Articles you publish appear on your patients' Learn page, filtered by the "
            "conditions you tag them with."
        ),
        rx.cond(ArticlesState.message != "", notice(ArticlesState.message)),
        rx.cond(
            ArticlesState.editing,
            editor(),
            rx.button("Write an article", on_click=ArticlesState.new, high_contrast=True),
        ),
        rx.cond(
            ArticlesState.loaded,
            rx.cond(
                ArticlesState.lines.length() > 0,
                rx.vstack(rx.foreach(ArticlesState.lines, article_row), spacing="3", width="100%"),
                empty_state(
                    "No articles yet",
                    "Write one: a short, plain-language page about a condition your patients "
                    "ask about.",
                ),
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
    )


def article_row(line: ArticleLine) -> rx.Component:
    published = line.published != ""
    return rx.card(
        rx.vstack(
            rx.heading(line.title, as_="h2", size="4"),
            rx.text(
                rx.cond(published, f"Published {line.published}", "Draft"),
                f" · changed {line.updated}",
                size="2",
                color_scheme="gray",
            ),
            tag_list(line.tags),
            rx.hstack(
                rx.button(
                    "Edit",
                    on_click=ArticlesState.edit(line.id),
                    variant="outline",
                    high_contrast=True,
                    aria_label=f"Edit {line.title}",
                ),
                rx.button(
                    rx.cond(published, "Take down", "Publish"),
                    on_click=ArticlesState.publish(line.id, ~published),
                    high_contrast=True,
                    aria_label=rx.cond(
                        published, f"Take down {line.title}", f"Publish {line.title}"
                    ),
                ),
                spacing="2",
            ),
            spacing="2",
        ),
        width="100%",
    )


def editor() -> rx.Component:
    draft = ArticlesState.draft
    errors = ArticlesState.errors
    return section(
        rx.cond(draft.id != "", "Edit the article", "New article"),
        form_errors_summary(errors, element_id="article-errors"),
        rx.form(
            rx.vstack(
                text_field(
                    "Title",
                    "title",
                    errors,
                    default_value=draft.title,
                    max_length=200,
                    required=True,
                ),
                text_field(
                    "Summary (optional)",
                    "summary",
                    errors,
                    default_value=draft.summary,
                    max_length=400,
                    hint="One or two sentences shown in the list.",
                ),
                text_field(
                    "Conditions (tags)",
                    "tags",
                    errors,
                    default_value=draft.tags,
                    hint="Separated by commas, e.g. diabetes, diet.",
                ),
                rx.el.label("Article", html_for="body", font_weight="500"),
                rx.text(FORMAT_HINT, id="body-hint", size="2", color_scheme="gray"),
                rx.text_area(
                    id="body",
                    name="body",
                    default_value=draft.body,
                    rows="14",
                    max_length=BODY_LIMIT,
                    width="100%",
                    aria_invalid=rx.cond(errors.contains("body"), "true", "false"),
                    aria_describedby=rx.cond(
                        errors.contains("body"), "body-hint body-error", "body-hint"
                    ),
                    on_blur=ArticlesState.show_preview,
                ),
                field_error("body", errors),
                rx.hstack(
                    rx.button("Save", type="submit", high_contrast=True),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        high_contrast=True,
                        on_click=ArticlesState.close,
                    ),
                    spacing="2",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=ArticlesState.save,
            key=draft.id,
            width="100%",
        ),
        rx.cond(
            ArticlesState.preview.length() > 0,
            rx.vstack(
                rx.heading("Preview", as_="h3", size="3"),
                rx.text(
                    "As patients will see it (updated when you leave the article box).",
                    size="2",
                    color_scheme="gray",
                ),
                rx.card(article_body(ArticlesState.preview), width="100%"),
                spacing="2",
                width="100%",
            ),
        ),
        heading_id="article-editor",
    )

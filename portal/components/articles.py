"""An article's blocks as components: headings, paragraphs and lists of plain, bold, italic and
linked text. Nothing an author typed is rendered as markup."""

from __future__ import annotations

import reflex as rx

from portal.backend.views import ArticleBlock, Inline


def article_body(blocks: rx.Var[list[ArticleBlock]]) -> rx.Component:
    return rx.vstack(rx.foreach(blocks, _block), spacing="3", width="100%", max_width="42rem")


def _block(block: ArticleBlock) -> rx.Component:
    return rx.match(
        block.kind,
        ("heading", rx.heading(rx.foreach(block.parts, _inline), as_="h2", size="5")),
        ("subheading", rx.heading(rx.foreach(block.parts, _inline), as_="h3", size="4")),
        (
            "list",
            rx.el.ul(
                rx.foreach(
                    block.list_items, lambda item: rx.el.li(rx.foreach(item.parts, _inline))
                ),
                style={"padding_left": "1.5rem", "list_style": "disc", "line_height": "1.6"},
            ),
        ),
        rx.text(rx.foreach(block.parts, _inline), as_="p", line_height="1.6"),
    )


def _inline(part: Inline) -> rx.Component:
    return rx.cond(
        part.href != "",
        rx.link(part.text, href=part.href, is_external=True, high_contrast=True),
        rx.text(
            part.text,
            as_="span",
            weight=rx.cond(part.bold, "bold", "regular"),
            style={"font_style": rx.cond(part.italic, "italic", "normal")},
        ),
    )


def tag_list(tags: rx.Var[list[str]]) -> rx.Component:
    return rx.hstack(
        rx.foreach(tags, lambda tag: rx.badge(tag, variant="soft", high_contrast=True)),
        spacing="2",
        wrap="wrap",
    )

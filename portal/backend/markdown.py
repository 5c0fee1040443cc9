"""Restricted markdown for health education articles, parsed into plain blocks.

Admins write `## Heading`, `### Smaller heading`, paragraphs, `- list items`, `**bold**`,
`*italic*` and `[links](https://…)`. Anything else is text: there is no HTML, no image, and a
link that is not http(s) stays words. Pages render the blocks with components, so nothing an
author types can become markup.
"""

from __future__ import annotations

import re

from portal.backend.views import ArticleBlock, Inline, ListItem

INLINE = re.compile(
    r"\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|\*(?P<italic>[^*\n]+?)\*"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<href>https?://[^\s)]+)\)"
)


def inline(text: str) -> list[Inline]:
    """A line's text split into plain, bold, italic and linked parts."""
    parts, position = [], 0
    for match in INLINE.finditer(text):
        if match.start() > position:
            parts.append(Inline(text[position : match.start()]))
        if match.group("bold"):
            parts.append(Inline(match.group("bold"), bold=True))
        elif match.group("italic"):
            parts.append(Inline(match.group("italic"), italic=True))
        else:
            parts.append(Inline(match.group("label"), href=match.group("href")))
        position = match.end()
    if position < len(text):
        parts.append(Inline(text[position:]))
    return parts


def blocks(source: str) -> list[ArticleBlock]:
    """Headings, paragraphs (consecutive lines joined) and lists, in order."""
    result: list[ArticleBlock] = []
    paragraph: list[str] = []
    items: list[ListItem] = []

    def close() -> None:
        if paragraph:
            result.append(ArticleBlock("paragraph", inline(" ".join(paragraph))))
            paragraph.clear()
        if items:
            result.append(ArticleBlock("list", list_items=list(items)))
            items.clear()

    for raw in source.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        heading = re.match(r"(#{2,3})\s+(.*)", line)
        if not line:
            close()
        elif heading:
            close()
            kind = "heading" if len(heading.group(1)) == 2 else "subheading"
            result.append(ArticleBlock(kind, inline(heading.group(2))))
        elif line.startswith(("- ", "* ")):
            if paragraph:
                close()
            items.append(ListItem(inline(line[2:].strip())))
        else:
            if items:
                close()
            paragraph.append(line)
    close()
    return result

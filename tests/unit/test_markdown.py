"""Restricted markdown: what an article's author can format, and what stays plain text."""

from portal.backend.markdown import blocks, inline
from portal.backend.views import ArticleBlock, Inline, ListItem


def test_headings_paragraphs_and_lists_become_blocks():
    source = "## Eating well\nMore fibre\nand water.\n\n- Beans\n- Oats\n### Why\nIt helps."
    assert [b.kind for b in blocks(source)] == [
        "heading",
        "paragraph",
        "list",
        "subheading",
        "paragraph",
    ]
    assert blocks(source)[1].parts == [Inline("More fibre and water.")]
    assert blocks(source)[2].list_items == [ListItem([Inline("Beans")]), ListItem([Inline("Oats")])]


def test_bold_italic_and_http_links_are_the_only_inline_formats():
    assert inline("Take **two** *daily*, see [the guide](https://example.org/a).") == [
        Inline("Take "),
        Inline("two", bold=True),
        Inline(" "),
        Inline("daily", italic=True),
        Inline(", see "),
        Inline("the guide", href="https://example.org/a"),
        Inline("."),
    ]


def test_markup_and_script_links_stay_text():
    hostile = '<img src=x onerror="alert(1)"> [click](javascript:alert(1)) <script>x</script>'
    assert blocks(hostile) == [ArticleBlock("paragraph", [Inline(hostile)])]
    assert all(not part.href for part in inline("[a](data:text/html,hi) [b](//evil.example)"))

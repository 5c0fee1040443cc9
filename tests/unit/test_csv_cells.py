"""CSV cells a spreadsheet could run as formulas are neutralised; everything else is kept."""

from __future__ import annotations

import pytest

from portal.backend.services.audit_review import AuditCriteria, csv_cell


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")', "-"],
)
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(value):
    assert csv_cell(value) == f"'{value}"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("message.read", "message.read"),
        ("Ann Alpha", "Ann Alpha"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("", ""),
        (None, ""),
        (3, "3"),
        (-3, "'-3"),
    ],
)
def test_other_cells_are_kept_as_they_are(value, cell):
    assert csv_cell(value) == cell


def test_export_links_carry_ids_and_filter_words_only():
    criteria = AuditCriteria.from_query(
        [
            ("actor", "9a1f7a3e-0c9c-4a6e-9d6c-2d3f7a1b2c3d"),
            ("action", "user."),
            ("to", "2026-12-01"),
        ]
    )
    assert criteria.query_string() == (
        "actor=9a1f7a3e-0c9c-4a6e-9d6c-2d3f7a1b2c3d&action=user.&to=2026-12-01"
    )
    assert criteria.named() == "user,action,to"

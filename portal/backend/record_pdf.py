"""Records as PDF: one record, or a summary of many, drawn from the same views the pages show.

The fonts ship with the portal (DejaVu Sans, `fonts/`): Latin, Greek and Cyrillic names and
values print, and no font is fetched at run time. Characters DejaVu Sans lacks (Chinese,
Japanese, Korean) print as blanks; the FHIR export carries them exactly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from portal.backend.views import RecordDetail

FONTS = Path(__file__).parent / "fonts"
# fpdf2 names the characters a font lacks in a warning: that would put PHI in the log.
logging.getLogger("fpdf").setLevel(logging.ERROR)
FAMILY = "DejaVu"
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


class _Document(FPDF):
    def __init__(self, practice: str, patient: str, generated: str):
        super().__init__(format="Letter")
        self.practice, self.patient, self.generated = practice, patient, generated
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(f"Health record of {patient}")
        self.set_creator(practice)

    def header(self) -> None:
        self.set_font(FAMILY, "B", 10)
        self.cell(0, 6, self.practice, **NEXT_LINE)
        self.set_font(FAMILY, "", 9)
        self.cell(0, 5, f"{self.patient} · generated {self.generated}", **NEXT_LINE)
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 5, f"Confidential health information · page {self.page_no()}", align="C")

    def heading(self, text: str, size: int = 13) -> None:
        self.set_font(FAMILY, "B", size)
        self.multi_cell(0, 7, text, **NEXT_LINE)

    def line_of(self, label: str, value: str) -> None:
        self.set_font(FAMILY, "B", 9)
        self.cell(38, 5, label)
        self.set_font(FAMILY, "", 9)
        self.multi_cell(0, 5, value, **NEXT_LINE)

    def record(self, detail: RecordDetail) -> None:
        self.heading(detail.title)
        self.set_font(FAMILY, "", 9)
        byline = ", ".join(
            part for part in (detail.kind_label, detail.day, detail.provider) if part
        )
        self.multi_cell(0, 5, byline, **NEXT_LINE)
        self.ln(1)
        for fact in detail.facts:
            self.line_of(fact.label, fact.value)
        if detail.lab_values:
            self.ln(1)
            with self.table(col_widths=(34, 16, 36, 34), text_align="LEFT", line_height=5) as table:
                self.set_font(FAMILY, "", 9)
                table.row(["Test", "Value", "Normal range", "Flag"])
                for value in detail.lab_values:
                    table.row(
                        [
                            value.test_name,
                            f"{value.value} {value.unit}".strip(),
                            value.reference,
                            value.flag_words,
                        ]
                    )
        if detail.reviewed_by:
            self.ln(1)
            self.line_of("Reviewed by", detail.reviewed_by)
        if detail.review_comment:
            self.line_of("Comment", detail.review_comment)
        self.ln(4)


def records_pdf(
    practice: str,
    patient: str,
    generated: str,
    details: list[RecordDetail],
    *,
    title: str,
    empty: str = "",
) -> bytes:
    """A Letter-size PDF: the title, then each record in order."""
    document = _Document(practice, patient, generated)
    document.add_page()
    document.heading(title, 15)
    document.ln(2)
    if not details:
        document.set_font(FAMILY, "", 10)
        document.multi_cell(0, 6, empty, **NEXT_LINE)
    for detail in details:
        document.record(detail)
    return bytes(document.output())

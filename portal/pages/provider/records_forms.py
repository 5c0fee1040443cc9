"""The quick-add (and correction) forms of the provider's Records screen, one per kind of record:
labelled fields with their error right below, a lab result's test rows that are added and
removed in place, and the document upload. Fields keep what was typed when the answer is an
error (the form is only renewed after a save)."""

from __future__ import annotations

import reflex as rx

from portal.backend.services.record_entries import DOCUMENT_LIMIT_BYTES
from portal.components.feedback import error_alert
from portal.components.forms import SELECT_STYLE, without_the_files
from portal.components.messages import ACCEPTED
from portal.pages.provider.records_fields import (
    FIELDS,
    FLAG_CHOICES,
    KIND_NAMES,
    TEST_FIELDS,
    TEST_LABELS,
    TEST_LIMITS,
    Field,
)
from portal.pages.provider.records_state import DOCUMENT_FILES, RecordsState

FORM_ERROR_ID = "record-form-error"
STARTING_CHOICE = {"lab_result": "final", "problem": "active"}
ERROR_STYLE = {"color": "var(--red-11)", "font_size": "var(--font-size-2)", "margin": "0"}


def entry_form() -> rx.Component:
    """The form of the kind in view: adding one, or correcting the record chosen."""
    return rx.vstack(
        rx.cond(
            RecordsState.correcting != "",
            rx.hstack(
                rx.text(f"Correcting {RecordsState.correcting_title}.", weight="medium"),
                rx.button(
                    "Cancel the correction",
                    on_click=RecordsState.cancel_correction,
                    variant="soft",
                    color_scheme="gray",
                    high_contrast=True,
                    size="2",
                ),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
        ),
        error_alert(RecordsState.form_error, element_id=FORM_ERROR_ID),
        rx.match(
            RecordsState.kind,
            ("document", document_form()),
            *[(kind, kind_form(kind)) for kind in FIELDS if kind != "document"],
            rx.fragment(),
        ),
        spacing="3",
        width="100%",
    )


def kind_form(kind: str) -> rx.Component:
    return rx.box(
        rx.form(
            rx.vstack(
                rx.grid(
                    *[entry_field(kind, spec) for spec in FIELDS[kind]],
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                *([lab_tests()] if kind == "lab_result" else []),
                rx.button(
                    rx.cond(
                        RecordsState.pending,
                        "Saving…",
                        rx.cond(
                            RecordsState.correcting != "",
                            "Save the correction",
                            f"Add the {KIND_NAMES[kind]}",
                        ),
                    ),
                    type="submit",
                    loading=RecordsState.pending,
                    size="3",
                    high_contrast=True,
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=RecordsState.save,
            width="100%",
        ),
        key=f"{kind}-{RecordsState.form_key}",
        width="100%",
    )


def entry_field(kind: str, spec: Field) -> rx.Component:
    name, label, shape, limit = spec
    element_id = f"{kind}-{name}"
    error = RecordsState.errors.get(name, "")
    start = RecordsState.values.get(name, "")
    common = {
        "id": element_id,
        "name": name,
        "aria_invalid": rx.cond(error != "", "true", "false"),
        "aria_describedby": rx.cond(error != "", f"{element_id}-error", ""),
    }
    if isinstance(shape, tuple):
        # A status starts at the usual one; other choices (severity) are made on purpose.
        first = STARTING_CHOICE.get(kind, "") if name == "status" else ""
        control = rx.el.select(
            *([] if first else [rx.el.option("Choose…", value="")]),
            *[rx.el.option(choice.capitalize(), value=choice) for choice in shape],
            default_value=rx.cond(start != "", start, first),
            style=SELECT_STYLE,
            **common,
        )
    elif shape == "area":
        control = rx.text_area(
            default_value=start, max_length=limit, rows="3", width="100%", **common
        )
    else:
        control = rx.input(
            type=shape,
            default_value=start,
            max_length=limit,
            size="3",
            width="100%",
            **common,
        )
    return rx.vstack(
        rx.el.label(label, html_for=element_id, font_weight="500"),
        control,
        field_error(error, f"{element_id}-error"),
        spacing="1",
        width="100%",
        grid_column="1 / -1" if shape == "area" else None,
    )


def field_error(error: rx.Var[str], element_id: str) -> rx.Component:
    return rx.cond(error != "", rx.el.p(error, id=element_id, style=ERROR_STYLE))


def lab_tests() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Tests", font_weight="600", margin_bottom="0.5rem"),
        field_error(RecordsState.errors.get("tests", ""), "tests-error"),
        rx.vstack(rx.foreach(RecordsState.tests, test_row), spacing="3", width="100%"),
        rx.button(
            rx.icon("plus", size=16, aria_hidden="true"),
            "Add a test",
            type="button",
            on_click=RecordsState.add_test,
            variant="soft",
            high_contrast=True,
            margin_top="0.75rem",
        ),
        style={"border": "1px solid var(--gray-a6)", "border_radius": "var(--radius-3)"},
        padding="0.75rem",
        width="100%",
    )


def test_row(row: rx.Var, index: rx.Var[int]) -> rx.Component:
    number = index + 1
    return rx.box(
        rx.hstack(
            rx.text(f"Test {number}", weight="medium"),
            rx.spacer(),
            rx.button(
                "Remove",
                type="button",
                on_click=RecordsState.remove_test(index.to_string()),
                size="1",
                variant="soft",
                color_scheme="red",
                high_contrast=True,
                aria_label=f"Remove test {number}",
            ),
            width="100%",
            align="center",
        ),
        rx.grid(
            *[test_field(row, index, name) for name in TEST_FIELDS],
            columns=rx.breakpoints(initial="2", sm="4"),
            spacing="2",
            width="100%",
        ),
        padding="0.5rem",
        border_top="1px solid var(--gray-a4)",
        width="100%",
    )


def test_field(row: rx.Var, index: rx.Var[int], name: str) -> rx.Component:
    element_id = f"test-{index}-{name}"
    error = row[f"{name}_error"]

    def typed(value):
        return RecordsState.typed_test(index.to_string(), name, value)

    common = {
        "id": element_id,
        "name": element_id,
        "value": row[name],
        "on_change": typed,
        "aria_invalid": rx.cond(error != "", "true", "false"),
        "aria_describedby": rx.cond(error != "", f"{element_id}-error", ""),
    }
    if name == "flag":
        control = rx.el.select(
            *[rx.el.option(text, value=value) for value, text in FLAG_CHOICES],
            style=SELECT_STYLE,
            **common,
        )
    else:
        control = rx.input(
            max_length=TEST_LIMITS[name],
            input_mode="decimal" if name in ("low", "high") else None,
            size="2",
            width="100%",
            **common,
        )
    return rx.vstack(
        rx.el.label(
            f"{TEST_LABELS[name]}, test {index + 1}",
            html_for=element_id,
            font_size="var(--font-size-2)",
        ),
        control,
        field_error(error, f"{element_id}-error"),
        spacing="1",
        width="100%",
        grid_column="span 2" if name == "name" else None,
    )


def document_form() -> rx.Component:
    title_error = RecordsState.errors.get("title", "")
    day_error = RecordsState.errors.get("dated_on", "")
    file_error = RecordsState.errors.get("file", "")
    return rx.vstack(
        document_input("Document title", "title", RecordsState.document_title, title_error),
        document_input(
            "Document date (optional)", "dated_on", RecordsState.document_day, day_error
        ),
        rx.vstack(
            document_picker(),
            rx.text(
                f"One PDF, PNG or JPEG file of up to {DOCUMENT_LIMIT_BYTES // (1024 * 1024)} MB.",
                id="document-file-hint",
                size="2",
                color_scheme="gray",
            ),
            rx.foreach(
                rx.selected_files(DOCUMENT_FILES), lambda name: rx.text(f"Chosen: {name}", size="2")
            ),
            field_error(file_error, "document-file-error"),
            spacing="1",
        ),
        rx.button(
            rx.cond(RecordsState.pending, "Uploading…", "Upload the document"),
            on_click=RecordsState.upload_document(rx.upload_files(upload_id=DOCUMENT_FILES)),
            loading=RecordsState.pending,
            size="3",
            high_contrast=True,
        ),
        spacing="3",
        width="100%",
        max_width="36rem",
        key=f"document-{RecordsState.form_key}",
    )


def document_input(label: str, name: str, value: rx.Var[str], error: rx.Var[str]) -> rx.Component:
    element_id = f"document-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=element_id, font_weight="500"),
        rx.input(
            id=element_id,
            type="date" if name == "dated_on" else "text",
            value=value,
            on_change=lambda typed: RecordsState.typed_document(name, typed),
            max_length=120 if name == "title" else 10,
            size="3",
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=rx.cond(error != "", f"{element_id}-error", ""),
        ),
        field_error(error, f"{element_id}-error"),
        spacing="1",
        width="100%",
    )


def document_picker() -> rx.Component:
    """The file chooser: a button that opens the browser's dialog, for one file; the file stays
    in the browser until "Upload" sends it. The hidden input gets the button's name."""
    label = "Choose a file"
    picker = rx.upload.root(
        rx.button(label, type="button", variant="soft", high_contrast=True),
        id=DOCUMENT_FILES,
        accept=ACCEPTED,
        max_files=1,
        max_size=DOCUMENT_LIMIT_BYTES,
        multiple=False,
        no_drag=True,
        no_keyboard=True,
        on_drop_rejected=without_the_files(RecordsState.document_rejected),
    )
    zone = picker.children[0]
    file_input = next(child for child in zone.children if isinstance(child, rx.el.Input))
    file_input.custom_attrs["aria-label"] = label
    file_input.custom_attrs["aria-describedby"] = "document-file-hint"
    return picker

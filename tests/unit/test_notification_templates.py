"""No notification template can carry PHI: each takes only the practice name, a date, a time,
a number of minutes or a portal link, and refuses anything else."""

from __future__ import annotations

import pytest

from portal.backend.notify.templates import PARAMETER_KINDS, TEMPLATES, TemplateMisuse

SAFE_VALUES = {
    "practice": "Riverside Family Health",
    "date": "Tuesday 1 December 2026",
    "time": "9:30 AM",
    "minutes": "15",
    "link": "https://portal.example.org/messages",
}
CANARY_VALUES = [
    "Maria ZZCANARY Garcia",
    "HbA1c 9.8 %",
    "Follow-up on ZZCANARY",
    "maria.garcia@example.com",
    "<b>ZZCANARY</b>",
    "1968-04-12",
]


def test_templates_declare_only_phi_free_kinds_of_parameter():
    for template in TEMPLATES.values():
        assert template.parameters <= set(PARAMETER_KINDS), template.id


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_renders_from_safe_values_only(template_id):
    template = TEMPLATES[template_id]
    values = {name: SAFE_VALUES[name] for name in template.parameters}
    subject, text = template.render(**values)
    assert subject and text and "{" not in subject + text
    with pytest.raises(TemplateMisuse):
        template.render(**values, patient_name="Maria ZZCANARY Garcia")


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
@pytest.mark.parametrize("canary", CANARY_VALUES)
def test_phi_cannot_pass_as_a_declared_value(template_id, canary):
    template = TEMPLATES[template_id]
    for name in template.parameters - {"practice"}:
        values = {other: SAFE_VALUES[other] for other in template.parameters}
        values[name] = canary
        with pytest.raises(TemplateMisuse):
            template.render(**values)

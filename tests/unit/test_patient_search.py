"""How the one search box is read, which pieces a name search asks for, what counts as a
match once the candidates' names are opened, and ages."""

from __future__ import annotations

from datetime import date

import pytest

from portal.backend.services.patient_query import (
    SearchInvalid,
    name_matches,
    query_pieces,
    read_query,
)
from portal.backend.services.patient_search import age_on


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("ana@example.com", "email"),
        (" 1968-04-12 ", "date_of_birth"),
        ("04/12/1968", "date_of_birth"),
        ("Garcia 1968-04-12", "name_dob"),
        ("4/12/1968 de la Cruz", "name_dob"),
        ("(555) 010-2000", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("garc", "name"),
        ("maria g", "name"),
        ("Li", "name"),
        ("José-Luis", "name"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_the_search_box_tells_the_kinds_apart(typed, kind):
    assert read_query(typed).kind == kind


def test_each_kind_carries_what_its_index_needs():
    assert read_query("04/12/1968").date_of_birth == date(1968, 4, 12)
    both = read_query("de la Cruz 1968-04-12")
    assert (both.last_name, both.date_of_birth) == ("de la Cruz", date(1968, 4, 12))
    assert read_query("555.010.2000").phone == "+15550102000"
    assert read_query("José-Luis O'Neil").words == ("jose", "luis", "o", "neil")


@pytest.mark.parametrize(
    "typed",
    ["a", "o k", "1968-02-30", "13/01/1968", "555-0100", "a@b@c", "x@y z", "Anna 3", "1 2 3 4"],
)
def test_what_cannot_be_searched_says_what_to_type(typed):
    with pytest.raises(SearchInvalid):
        read_query(typed)


def test_short_words_narrow_the_result_instead_of_asking_for_pieces():
    assert query_pieces(["maria", "g"]) == {"mar", "ari", "ria"}
    assert query_pieces(["li"]) == {"li"}
    assert query_pieces(["ng", "li"]) == {"ng", "li"}


def test_a_match_needs_every_typed_word_inside_some_name_word():
    assert name_matches(["ande"], "Karl", "Anders")
    assert not name_matches(["ande"], "Nde", "Andy")  # holds "and" and "nde", not "ande"
    assert name_matches(["nunez", "jos"], "José", "Núñez", None)
    assert name_matches(["greta"], "Margarethe", "Vanderberg", "Greta")
    assert not name_matches(["maria", "x"], "Maria", "Garcia")


def test_age_counts_whole_years_up_to_the_birthday():
    assert age_on(date(1970, 6, 15), date(2026, 6, 14)) == 55
    assert age_on(date(1970, 6, 15), date(2026, 6, 15)) == 56
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26

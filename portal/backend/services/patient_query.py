"""What the care team's search box holds, read as one kind of search.

`read_query` tells the kinds apart (email, date of birth, last name with date of birth, phone,
part of a name) and refuses, with a sentence saying what to type, what cannot be any of them.
For a partial name, `query_pieces` says which name pieces to ask `patient_name_grams` for and
`name_matches` whether an opened patient's names hold every typed word. Pure functions: nothing
here reads the database (`patient_search` does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from portal.backend import patient_index
from portal.backend.notify.sms import normalize_phone

_PHONE_TEXT = re.compile(r"^[\d\s().+-]+$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DIGIT = re.compile(r"\d")


class SearchInvalid(Exception):
    """What was typed cannot be searched as it is; the text says what to type."""


@dataclass(frozen=True)
class PatientQuery:
    """What the search box holds, read as one kind of search."""

    kind: str  # "name", "name_dob", "date_of_birth", "phone", "email", or "" for nothing typed
    words: tuple[str, ...] = ()  # name: the typed words, normalised
    last_name: str = ""
    date_of_birth: date | None = None
    phone: str = ""
    email: str = ""


def read_query(text: str) -> PatientQuery:
    """Tell the kinds apart: contains "@" → email; a date alone → date of birth; words and a
    date → last name and date of birth; only digits and phone punctuation → phone; else a
    name. Dates are YYYY-MM-DD or MM/DD/YYYY."""
    text = " ".join(text.split())[:200]
    if not text:
        return PatientQuery("")
    if "@" in text:
        if " " in text or text.count("@") != 1:
            raise SearchInvalid("Enter one whole email address, for example ana@example.com.")
        return PatientQuery("email", email=text)
    tokens = text.split(" ")
    dates = [day for day in map(_date_of, tokens) if day is not None]
    if dates:
        if len(dates) > 1:
            raise SearchInvalid("Enter one date of birth, as YYYY-MM-DD or MM/DD/YYYY.")
        rest = " ".join(token for token in tokens if _date_of(token) is None)
        if not rest:
            return PatientQuery("date_of_birth", date_of_birth=dates[0])
        if _DIGIT.search(rest):
            raise SearchInvalid(
                "Enter the last name and the date of birth, e.g. Garcia 1968-04-12."
            )
        return PatientQuery("name_dob", last_name=rest, date_of_birth=dates[0])
    if _looks_like_a_date(text):
        raise SearchInvalid("Enter a date of birth as YYYY-MM-DD or MM/DD/YYYY.")
    if _PHONE_TEXT.match(text):
        number = normalize_phone(text)
        if number is None:
            raise SearchInvalid(
                "Enter the whole phone number with its area code, for example (555) 010-2000."
            )
        return PatientQuery("phone", phone=number)
    words = tuple(patient_index.words(text))
    if not words or any(_DIGIT.search(word) for word in words):
        raise SearchInvalid(
            "A name has only letters. To search by date of birth, type it as YYYY-MM-DD."
        )
    if not any(len(word) >= patient_index.PIECE for word in words) and any(
        len(word) < 2 for word in words
    ):
        raise SearchInvalid("Type at least three letters of the name.")
    return PatientQuery("name", words=words)


def query_pieces(words: Sequence[str]) -> set[str]:
    """The name pieces a partial-name search asks for. Words of three letters or more give
    their pieces; a shorter word only narrows the result afterwards, unless the query has only
    two-letter words (a whole short name such as "Li" is indexed as one piece)."""
    long = [word for word in words if len(word) >= patient_index.PIECE]
    return patient_index.name_pieces(*long) if long else set(words)


def name_matches(words: Sequence[str], *names: str | None) -> bool:
    """Whether every typed word is part of some word of the patient's names."""
    held = [word for name in names if name for word in patient_index.words(name)]
    return matches_words(words, held)


def matches_words(typed: Sequence[str], held: Sequence[str]) -> bool:
    """Whether every typed word is part of some word held (a patient's normalised names)."""
    return all(any(word in name_word for name_word in held) for word in typed)


def _date_of(token: str) -> date | None:
    """A date typed as YYYY-MM-DD or MM/DD/YYYY (the practice's US order), else None."""
    us = _US_DATE.match(token)
    try:
        if us:
            return date(int(us[3]), int(us[1]), int(us[2]))
        return date.fromisoformat(token) if len(token) == 10 and token[4] == "-" else None
    except ValueError:
        return None


def _looks_like_a_date(text: str) -> bool:
    return bool(re.match(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$", text.strip()))

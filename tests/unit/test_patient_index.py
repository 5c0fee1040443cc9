"""Partial-name search pieces: what is indexed for a name and asked for by a search."""

from portal.backend.patient_index import name_pieces, words


def test_words_drop_accents_case_and_punctuation():
    assert words("José-Luis O'Neil") == ["jose", "luis", "o", "neil"]


def test_a_name_is_indexed_in_three_letter_pieces_and_short_words_whole():
    assert name_pieces("Ana Li") == {"ana", "li"}
    assert name_pieces("Anders") == {"and", "nde", "der", "ers"}


def test_any_part_of_a_name_asks_for_pieces_the_name_holds():
    indexed = name_pieces("Margarethe", "Vanderberg", "Greta")
    for fragment in ("marg", "garet", "VANDER", "berg", "Grét"):
        assert name_pieces(fragment) <= indexed
    assert not name_pieces("mart") <= indexed

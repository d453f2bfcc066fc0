"""The quality harness's own scoring rules (tests/quality/extraction_metrics.py)."""

from __future__ import annotations

from tests.quality.extraction_metrics import same_author, same_title


def test_an_author_is_right_when_a_name_given_holds_the_gold_one_or_is_part_of_it() -> None:
    assert same_author("Jane Doe", ["JANE  DOE"])
    assert same_author("Jane Doe; John Roe", ["Editor", "John Roe"])  # one of several gold names
    assert same_author("Jane Doe", ["By Jane Doe, Reuters"])
    assert not same_author("Jane Doe", [])
    assert not same_author("Jane Doe", ["", "Reuters"])  # an empty name is part of everything
    assert not same_author("Jane Doe", ["John Roe"])


def test_titles_compare_after_folding_and_outer_quotes() -> None:
    assert same_title("«Breaking» news", "«breaking»  NEWS")
    assert same_title('"Quoted headline"', "Quoted headline")
    assert not same_title("One headline", "Another headline")

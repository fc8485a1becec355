"""Language knowledge: Roman numerals and Chinese numerals."""

from __future__ import annotations

from rag.languages import chinese_numeral, roman_value


def test_roman_numerals_are_read_as_numbers() -> None:
    values = [roman_value(w) for w in ("XVI", "XXIII", "VI", "IV", "XL", "LV")]
    assert values == [16, 23, 6, 4, 40, 55]
    assert roman_value("ABAC") is None and roman_value("CD") is None and roman_value("") is None


def test_small_numbers_are_written_in_chinese_numerals() -> None:
    numerals = [chinese_numeral(n) for n in (6, 10, 16, 23, 40)]
    assert numerals == ["六", "十", "十六", "二十三", "四十"]
    assert chinese_numeral(150) == "150"

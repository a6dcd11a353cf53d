"""Whole numbers from text: ASCII digits within range, whatever int() and str.isdigit() would let by."""

from __future__ import annotations

import pytest

from pinfold.core.errors import InvalidInput
from pinfold.core.numbers import MAX_INT32, whole_number


@pytest.mark.parametrize("text, number", [("1", 1), ("007", 7), (str(MAX_INT32), MAX_INT32)])
def test_digits_in_range_are_read(text, number):
    assert whole_number(text, field="Version") == number


@pytest.mark.parametrize("text", ["²", "¹²³", "٣", "１２", " 1", "1 ", "1_0", "+1", "-1", "0", "", "1.0",
                                  str(MAX_INT32 + 1), "9" * 23, "9" * 5000])
def test_anything_else_is_invalid_input_naming_the_field(text):
    with pytest.raises(InvalidInput) as caught:
        whole_number(text, field="Version")
    assert caught.value.field == "Version"
    assert len(caught.value.message) < 120


def test_the_range_is_the_callers():
    assert whole_number("0", field="Token", low=0) == 0
    with pytest.raises(InvalidInput, match="from 1 to 5"):
        whole_number("6", field="Version", high=5)

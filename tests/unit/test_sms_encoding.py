"""GSM 03.38 against UCS-2 and the parts a text is split into (sms/rules/encoding.py), and the price
of its parts (sms/rules/prices.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinfold.sms.rules import encoding, prices


def test_the_gsm_alphabet_has_its_basic_characters_and_the_extension_table():
    assert len(encoding.GSM_BASIC) == 127  # 128 less the escape
    assert set("^{}\\[~]|€") <= encoding.GSM_EXTENSION
    assert not encoding.GSM_BASIC & encoding.GSM_EXTENSION


@pytest.mark.parametrize(("text", "kind", "units", "sizes"), [
    ("a" * 160, "GSM", 160, [160]),
    ("a" * 161, "GSM", 161, [153, 8]),
    ("a" * 306, "GSM", 306, [153, 153]),
    ("a" * 307, "GSM", 307, [153, 153, 1]),
    ("€" * 80, "GSM", 160, [80]),  # the extension characters count twice
    ("€" * 81, "GSM", 162, [76, 5]),  # and a part never ends between an escape and its character
    ("a" * 152 + "[", "GSM", 154, [153]),
    ("ü" * 160, "GSM", 160, [160]),
    ("’" * 70, "Unicode", 70, [70]),
    ("’" * 71, "Unicode", 71, [67, 4]),
    ("😀" * 35, "Unicode", 70, [35]),  # outside the BMP: two UCS-2 units each
    ("😀" * 36, "Unicode", 72, [33, 3]),
])
def test_parts(text, kind, units, sizes):
    encoded = encoding.encode(text)
    assert (encoded.encoding, encoded.units, [len(part) for part in encoded.parts]) == (kind, units, sizes)
    assert "".join(encoded.parts) == text


def test_one_curly_apostrophe_turns_the_whole_text_into_ucs2():
    text = "a" * 129 + "’"  # AWS's example: 130 characters become two parts
    encoded = encoding.encode(text)
    assert encoded.encoding == encoding.UCS2 and len(encoded.parts) == 2


def test_the_maximum_is_ten_gsm_parts_or_630_ucs2_units():
    assert not encoding.encode("a" * 1530).too_long
    assert len(encoding.encode("a" * 1530).parts) == 10
    assert encoding.encode("a" * 1531).too_long
    assert encoding.encode("{" * 766).too_long
    assert not encoding.encode("é" * 630).too_long  # é is in the GSM basic set
    assert not encoding.encode("ж" * 630).too_long
    assert encoding.encode("ж" * 631).too_long


@given(st.text(max_size=600))
def test_parts_fit_and_rejoin(text):
    encoded = encoding.encode(text)
    assert "".join(encoded.parts) == text
    size = 160 if encoded.encoding == encoding.GSM else 70
    split = 153 if encoded.encoding == encoding.GSM else 67
    limit = size if len(encoded.parts) == 1 else split
    for part in encoded.parts:
        assert sum(encoding.units_of(char, encoded.encoding) for char in part) <= limit


def test_prices_per_part_by_country_with_a_default():
    assert prices.price_of("US", 3) == pytest.approx(3 * prices.PRICES["US"])
    assert prices.price_of("ZZ", 1) == prices.DEFAULT_PRICE

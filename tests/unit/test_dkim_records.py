"""The DKIM TXT record: its name and value, and how the value is cut into DNS character-strings."""

from __future__ import annotations

import base64
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinfold.core.errors import InvalidInput
from pinfold.email.rules import dkim


def test_a_2048_bit_key_is_published_as_one_full_string_and_the_rest():
    _, public_b64 = dkim.generate_key(2048)
    record, = dkim.dns_records("shop.example", "s1", public_b64)
    assert len(record["value"]) == 18 + 392  # "v=DKIM1; k=rsa; p=" and 294 DER bytes in base64
    assert record["strings"] == [record["value"][:255], record["value"][255:]]


def test_a_1024_bit_key_fits_one_string():
    _, public_b64 = dkim.generate_key(1024)
    record, = dkim.dns_records("shop.example", "s1", public_b64)
    assert record["strings"] == [record["value"]] and len(record["value"]) <= 255


@pytest.mark.parametrize(("length", "sizes"), [(0, []), (1, [1]), (255, [255]), (256, [255, 1]),
                                               (510, [255, 255]), (511, [255, 255, 1])])
def test_ascii_values_are_cut_every_255_characters(length, sizes):
    value = "".join(chr(ord("a") + i % 26) for i in range(length))
    strings = dkim.txt_strings(value)
    assert [len(s) for s in strings] == sizes and "".join(strings) == value


def test_a_string_is_cut_by_bytes_and_never_inside_a_character():
    value = "x" * 254 + "é" + "y"  # "é" is two bytes: it would end the first string at 256
    assert dkim.txt_strings(value) == ["x" * 254, "éy"]


@given(st.text(max_size=1200))
def test_strings_join_back_to_the_value_and_each_holds_at_most_255_bytes(value):
    strings = dkim.txt_strings(value)
    assert "".join(strings) == value
    assert all(0 < len(s.encode()) <= 255 for s in strings)
    for string, following in itertools.pairwise(strings):  # every string but the last is as full as it can be
        assert len(string.encode()) + len(following[0].encode()) > 255


def test_the_record_that_the_service_shows_has_no_strings_and_a_normalized_name():
    assert dkim.txt_record("Shop.Example.", "s1", "AAAA") == {
        "name": "s1._domainkey.shop.example", "type": "TXT", "value": "v=DKIM1; k=rsa; p=AAAA"}


def test_an_imported_key_is_read_from_pem_or_base64_der():
    private_pem, public_b64 = dkim.generate_key(1024)
    assert dkim.import_key(private_pem) == (private_pem, public_b64, 1024)
    der = base64.b64decode("".join(line for line in private_pem.splitlines() if "-----" not in line))
    assert dkim.import_key(base64.b64encode(der).decode()) == (private_pem, public_b64, 1024)
    with pytest.raises(ValueError):
        dkim.import_key("bm90IGEga2V5")
    with pytest.raises(InvalidInput):
        dkim.dns_records("shop.example", "bad selector", public_b64)

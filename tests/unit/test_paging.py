"""Pinpoint's PageSize arrives as a string: ASCII digits from 1 to 1,000 only."""

from __future__ import annotations

import pytest

from pinfold.core.errors import InvalidInput
from pinfold.core.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_size


@pytest.mark.parametrize("raw", ["１２", "²", "0", "1001", " 5", "1_0", "-1", "abc", "9" * 40])
def test_a_page_size_that_is_not_plain_digits_in_range_is_refused(raw):
    with pytest.raises(InvalidInput) as refused:
        page_size(raw)
    assert refused.value.field == "PageSize"


def test_page_sizes_in_range_and_the_default():
    assert [page_size(None), page_size(""), page_size("1"), page_size("1000")] == [DEFAULT_PAGE_SIZE,
                                                                                    DEFAULT_PAGE_SIZE, 1,
                                                                                    MAX_PAGE_SIZE]

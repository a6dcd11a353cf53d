"""Ids made from random bytes read ahead: unique, in their shapes, and a forked child's its own."""

from __future__ import annotations

import multiprocessing
import re
import uuid

from pinfold.core import ids


def _five_event_ids(_=None) -> list[str]:
    return [ids.new_event_id() for _ in range(5)]


def test_ids_are_version_4_uuids_and_do_not_repeat():
    made = [ids.new_event_id() for _ in range(20_000)]  # several reads of the bytes ahead
    assert len(set(made)) == len(made)
    assert all(uuid.UUID(made_id).version == 4 for made_id in made[:100])
    assert re.fullmatch(r"[0-9a-f]{16}-[0-9a-f-]{36}-000000", ids.new_message_id())


def test_a_forked_child_makes_ids_of_its_own_not_the_ones_its_parent_makes_next():
    ids.new_event_id()  # the parent has bytes read ahead, which the child would inherit
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply(_five_event_ids)
    parent = _five_event_ids()
    assert not set(child) & set(parent)

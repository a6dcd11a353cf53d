"""The pump's rows: the record is decoded when a sink first reads it, once."""

import pytest

from pinfold.events.store import OutboxRow


def test_a_row_decodes_its_record_on_first_read_and_keeps_it():
    row = OutboxRow(7, "123456789012", "project", "event-1", "_email.send", 1_700_000_000_000, '{"a": [1, 2]}')
    assert "record" not in row  # nothing decoded while a sink looks at the other fields
    assert (row["seq"], row["event_type"], row["account_id"]) == (7, "_email.send", "123456789012")
    record = row["record"]
    assert record == {"a": [1, 2]}
    assert row["record"] is record


def test_a_row_that_is_never_read_is_never_decoded():
    row = OutboxRow(8, "123456789012", "project", "event-2", "purchase", 0, "not json")
    assert row["event_type"] == "purchase"
    with pytest.raises(KeyError):
        row["tenant_id"]
    with pytest.raises(ValueError):
        row["record"]

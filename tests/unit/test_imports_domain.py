"""Segment import files parsed by pinfold.audience.rules.imports: CSV and JSON lines, row failures,
whole-file rejections."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import tracemalloc
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinfold.audience.rules.imports import CHANNEL_TYPES, ParsedRow, RowFailure, UserIdsRow, parse_file
from pinfold.core.errors import InvalidInput

GUIDE_EXAMPLE = (
    "ChannelType,Address,Location.Country,Demographic.Platform,Demographic.Make,User.UserId\n"
    "SMS,+16045550182,CA,Android,LG,example-user-id-1\n"
    "EMAIL,john.stiles@example.com,US,iOS,Apple,example-user-id-2\n"
)


def parse(content: str | bytes, fmt: str = "CSV", name: str = "seg.csv") -> list:
    """Parse `content` as a file opened in binary mode would deliver it (lines keep their endings)."""
    data = content.encode() if isinstance(content, str) else content
    return list(parse_file(name, io.BytesIO(data), fmt))


def items(content: str | bytes, fmt: str = "CSV") -> list[dict]:
    results = parse(content, fmt)
    assert all(isinstance(result, ParsedRow) for result in results), results
    return [result.item for result in results]


def failure(content: str | bytes, fmt: str = "CSV") -> RowFailure:
    """The single result of `content`, which must be a RowFailure."""
    [result] = parse(content, fmt)
    assert isinstance(result, RowFailure), result
    return result


def rejection(content: str | bytes, fmt: str = "CSV") -> str:
    """The InvalidInput message for `content`, raised by the call itself, before any iteration."""
    data = content.encode() if isinstance(content, str) else content
    with pytest.raises(InvalidInput) as raised:
        parse_file("seg.csv", io.BytesIO(data), fmt)
    assert "seg.csv" in raised.value.message
    return raised.value.message


# CSV -----------------------------------------------------------------------------------------


def test_the_user_guide_example_file():
    results = parse(GUIDE_EXAMPLE)
    assert [(result.file, result.line) for result in results] == [("seg.csv", 2), ("seg.csv", 3)]
    assert results[0].item == {
        "ChannelType": "SMS", "Address": "+16045550182", "Location": {"Country": "CA"},
        "Demographic": {"Platform": "Android", "Make": "LG"}, "User": {"UserId": "example-user-id-1"},
    }
    assert results[1].item["Address"] == "john.stiles@example.com"


def test_every_supported_column():
    header = ("Id,ChannelType,Address,Attributes.Plan,Metrics.Score,User.UserId,User.UserAttributes.Name,"
              "Demographic.AppVersion,Demographic.Locale,Demographic.Make,Demographic.Model,Demographic.ModelVersion,"
              "Demographic.Platform,Demographic.PlatformVersion,Demographic.Timezone,Location.City,Location.Country,"
              "Location.Latitude,Location.Longitude,Location.PostalCode,Location.Region,OptOut,RequestId,EffectiveDate")
    row = ("e1,APNS,token,gold,4.5,u1,Ana,1.2,en_US,Apple,iPhone,15,iOS,17.1,America/Los_Angeles,Paris,FR,"
           "48.8566,2.3522,75001,IDF,ALL,req-1,2024-05-01T10:00:00Z")
    assert items(f"{header}\n{row}\n") == [{
        "Id": "e1", "ChannelType": "APNS", "Address": "token", "Attributes": {"Plan": ["gold"]},
        "Metrics": {"Score": 4.5}, "User": {"UserId": "u1", "UserAttributes": {"Name": ["Ana"]}},
        "Demographic": {"AppVersion": "1.2", "Locale": "en_US", "Make": "Apple", "Model": "iPhone",
                        "ModelVersion": "15", "Platform": "iOS", "PlatformVersion": "17.1",
                        "Timezone": "America/Los_Angeles"},
        "Location": {"City": "Paris", "Country": "FR", "Latitude": 48.8566, "Longitude": 2.3522,
                     "PostalCode": "75001", "Region": "IDF"},
        "OptOut": "ALL", "RequestId": "req-1", "EffectiveDate": "2024-05-01T10:00:00Z",
    }]


def test_repeated_columns_give_several_values_in_column_order():
    content = (
        "ChannelType,Address,User.UserId,User.UserAttributes.new_multi_field,User.UserAttributes.new_multi_field\n"
        "EMAIL,a@example.com,example-user-id-2,test10,test20\n"
    )
    assert items(content)[0]["User"] == {"UserId": "example-user-id-2",
                                         "UserAttributes": {"new_multi_field": ["test10", "test20"]}}


def test_empty_cells_are_skipped_and_an_attribute_with_no_values_is_left_out():
    content = ("Id,ChannelType,Address,Attributes.Ride,Attributes.Plan,Attributes.Ride,Metrics.n,Location.City\n"
               "e1,,,,,Bus,,\n"
               "e2,,,,,,,\n")
    assert items(content) == [{"Id": "e1", "Attributes": {"Ride": ["Bus"]}}, {"Id": "e2"}]


def test_quoted_values_keep_commas_and_quotes():
    content = 'Id,Attributes.Note,Attributes.Quote\ne1,"aaa,bbb","she said ""hi"", then left"\n'
    assert items(content)[0]["Attributes"] == {"Note": ["aaa,bbb"], "Quote": ['she said "hi", then left']}


def test_crlf_line_endings_and_a_byte_order_mark():
    content = "\ufeffId,Attributes.Plan\r\ne1,gold\r\ne2,silver\r\n"
    assert items(content) == [{"Id": "e1", "Attributes": {"Plan": ["gold"]}},
                              {"Id": "e2", "Attributes": {"Plan": ["silver"]}}]


def test_lines_without_endings_as_an_s3_body_iter_lines_gives_them():
    lines = "\ufeffId,Attributes.Plan\r\ne1,gold\r\n\r\ne2,silver".encode().splitlines()
    results = list(parse_file("s3.csv", iter(lines), "CSV"))
    assert [(result.line, result.item["Id"]) for result in results] == [(2, "e1"), (4, "e2")]


def test_blank_lines_and_rows_of_empty_cells_are_skipped_silently_and_lines_keep_their_numbers():
    content = "\n  \nId,ChannelType\n\ne1,SMS\n,\n   \ne2,EMAIL\n"
    assert [(result.line, result.item["Id"]) for result in parse(content)] == [(5, "e1"), (8, "e2")]


def test_a_header_only_file_has_no_rows():
    assert parse("Id,Attributes.Plan\n") == []


@pytest.mark.parametrize(("row", "reason"), [
    ("e1,SMS", "the row has 2 cells; the header has 3 columns"),
    ("e1,SMS,+1604,extra", "the row has 4 cells; the header has 3 columns"),
])
def test_a_row_with_the_wrong_number_of_cells_fails(row, reason):
    assert failure(f"Id,ChannelType,Address\n{row}\n").reason == reason


@pytest.mark.parametrize("value", ["abc", "1_000", "inf", "nan", "-Infinity", "1e999", "1,5", "0x10", "٣"])
def test_a_metric_that_is_not_a_finite_number_fails_naming_the_column(value):
    reason = failure(f'Id,Metrics.Score\ne1,"{value}"\n').reason
    assert "Metrics.Score" in reason and "number" in reason


@pytest.mark.parametrize(("value", "number"), [("3", 3.0), ("-2.5", -2.5), (".5", 0.5), ("1e3", 1000.0), ("7.", 7.0)])
def test_metrics_are_floats(value, number):
    assert items(f"Id,Metrics.Score\ne1,{value}\n")[0]["Metrics"] == {"Score": number}


@pytest.mark.parametrize(("column", "value"), [
    ("Latitude", "north"), ("Longitude", "nan"), ("Latitude", "91"), ("Longitude", "-180.5"),
])
def test_a_coordinate_that_is_not_a_number_in_range_fails(column, value):
    assert f"Location.{column}" in failure(f"Id,Location.{column}\ne1,{value}\n").reason


def test_an_unknown_channel_type_fails_listing_the_valid_ones():
    reason = failure("ChannelType,Address\nFAX,123\n").reason
    assert "ChannelType 'FAX'" in reason and "IN_APP" in reason


def test_every_pinpoint_channel_type_is_accepted():
    rows = "".join(f"{channel},addr-{channel}\n" for channel in CHANNEL_TYPES if channel not in ("SMS", "VOICE"))
    assert len(items("ChannelType,Address\n" + rows + "SMS,+16045550182\nVOICE,+442071838750\n")) == 13


@pytest.mark.parametrize("value", ["all", "YES", "OPT_OUT"])
def test_opt_out_must_be_all_or_none(value):
    assert "OptOut" in failure(f"Id,OptOut\ne1,{value}\n").reason


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "01/05/2024"])
def test_an_effective_date_that_is_not_iso_8601_fails(value):
    assert "EffectiveDate" in failure(f"Id,EffectiveDate\ne1,{value}\n").reason


@pytest.mark.parametrize("value", ["2024-05-01", "2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00+02:00"])
def test_iso_8601_effective_dates_are_kept_as_given(value):
    assert items(f"Id,EffectiveDate\ne1,{value}\n")[0]["EffectiveDate"] == value


@pytest.mark.parametrize("row", [",SMS,+16045550182", "e1,,", "e1,SMS,"])
def test_an_id_or_both_channel_type_and_address_identify_a_row(row):
    assert len(items(f"Id,ChannelType,Address,Attributes.x\n{row},v\n")) == 1


@pytest.mark.parametrize("row", [",,", ",EMAIL,", ",,a@example.com"])
def test_a_row_with_neither_id_nor_channel_type_and_address_fails(row):
    reason = failure(f"Id,ChannelType,Address,Attributes.x\n{row},v\n").reason
    assert reason == "new endpoints need ChannelType and Address; updates need Id"


@pytest.mark.parametrize(("channel", "address"), [
    ("SMS", "6045550182"), ("SMS", "+0123"), ("VOICE", "+1"), ("SMS", "+1234567890123456"), ("SMS", "+1 604 555"),
    ("VOICE", "+١٢٣٤٥"),
])
def test_sms_and_voice_addresses_must_be_e164(channel, address):
    assert "E.164" in failure(f"ChannelType,Address\n{channel},{address}\n").reason


def test_other_channels_do_not_need_e164():
    assert items("ChannelType,Address\nEMAIL,6045550182\n")[0]["Address"] == "6045550182"


def test_a_row_with_invalid_utf8_fails_and_the_import_goes_on():
    results = parse(b"Id,Attributes.Name\ne1,Ren\xe9\ne2,Ren\xc3\xa9\n")
    assert isinstance(results[0], RowFailure) and results[0].line == 2 and "UTF-8" in results[0].reason
    assert results[1].item == {"Id": "e2", "Attributes": {"Name": ["René"]}}


def test_a_quote_that_does_not_close_on_its_line_fails_and_the_next_line_is_its_own_row():
    results = parse('Id,Attributes.Note\ne1,"first\nsecond"\ne2,ok\n')
    assert isinstance(results[0], RowFailure) and "does not close" in results[0].reason
    assert isinstance(results[1], RowFailure) and results[1].line == 3
    assert results[2].item == {"Id": "e2", "Attributes": {"Note": ["ok"]}}


def test_a_nul_byte_in_a_later_row_fails_that_row():
    assert "NUL" in failure(b"Id\ne\x001\n").reason


def test_one_failure_per_bad_row_among_good_rows():
    content = "ChannelType,Address\nSMS,+16045550182\nSMS,12\nEMAIL,a@example.com\n"
    assert [type(result).__name__ for result in parse(content)] == ["ParsedRow", "RowFailure", "ParsedRow"]


# User.UserId-only files ----------------------------------------------------------------------


def test_a_user_id_only_file_yields_the_user_ids_of_each_row():
    results = parse("User.UserId\r\nuser-1\r\nuser-2 user-3  user-4\r\n\r\n")
    assert results == [UserIdsRow("seg.csv", 2, ("user-1",)), UserIdsRow("seg.csv", 3, ("user-2", "user-3", "user-4"))]


def test_a_user_id_file_row_with_several_cells_fails():
    assert "one column" in failure("User.UserId\nuser-1,user-2\n").reason


def test_a_header_with_user_id_and_other_columns_is_an_ordinary_file():
    assert failure("User.UserId,Attributes.Plan\nu1,gold\n").reason.startswith("new endpoints need")


# Whole-file rejections -----------------------------------------------------------------------


def test_compressed_files_are_rejected():
    assert "compressed files are not supported" in rejection(gzip.compress(GUIDE_EXAMPLE.encode()))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("seg.csv", GUIDE_EXAMPLE)
    assert "compressed files are not supported" in rejection(archive.getvalue())
    assert "compressed" in rejection(gzip.compress(b'{"Id": "e1"}\n'), fmt="JSON")


@pytest.mark.parametrize("content", [b"Id,Ch\x00annelType\n", b"\x7fELF\x02\x01\x01\x00\x00\n", b"\x01\x02\x03\n"])
def test_binary_content_on_the_first_line_is_rejected(content):
    assert "binary" in rejection(content)


def test_utf16_is_rejected():
    assert "UTF-8 only" in rejection(GUIDE_EXAMPLE.encode("utf-16"))


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\r\n  \n"])
@pytest.mark.parametrize("fmt", ["CSV", "JSON"])
def test_an_empty_file_is_rejected(content, fmt):
    assert "empty" in rejection(content, fmt)


def test_a_header_that_is_not_utf8_is_rejected():
    assert "not valid UTF-8" in rejection(b"Id,Attributes.Pr\xe9nom\ne1,x\n")


def test_unknown_columns_are_named_with_the_supported_ones():
    message = rejection("Id,FirstName,Attributes.Plan,Location.Planet\ne1,a,b,c\n")
    assert "'FirstName', 'Location.Planet'" in message
    assert "Supported: Id, ChannelType, Address" in message and "Attributes.<name>" in message


@pytest.mark.parametrize("column", ["", "Attributes.", "Metrics.", "address", "User.Name", "Demographic.Channel"])
def test_malformed_column_names_are_unknown(column):
    assert "unknown column" in rejection(f"Id,{column}\n")


def test_a_json_file_sent_as_csv_gets_a_hint():
    assert "use Format JSON" in rejection('{"Id": "e1", "ChannelType": "SMS"}\n')


def test_a_header_without_any_identifying_column_is_rejected():
    assert "none of Id, ChannelType, Address or User.UserId" in rejection("Attributes.Plan,Metrics.n\ngold,1\n")


@pytest.mark.parametrize("header", ["Id,Address,Address", "Id,Metrics.n,Metrics.n", "Id,Location.City,Location.City"])
def test_single_valued_columns_may_not_repeat(header):
    assert "appear more than once" in rejection(header + "\n")


@pytest.mark.parametrize("fmt", ["csv", "XML", ""])
def test_an_unknown_format_is_rejected(fmt):
    assert "Format must be CSV or JSON" in rejection(GUIDE_EXAMPLE, fmt)


@pytest.mark.parametrize("first", ["[", '[{"Id": "e1"}]', "{", '"e1"', "Id,ChannelType", "\xff"])
def test_a_json_file_that_is_not_json_lines_is_rejected(first):
    assert "not JSON lines" in rejection(f'\n{first}\n{{"Id": "e1"}}\n'.encode("latin-1"), fmt="JSON")


# JSON lines ----------------------------------------------------------------------------------


def test_json_lines_with_every_member():
    endpoint = {
        "Id": "e1", "ChannelType": "SMS", "Address": "+16045550182", "Attributes": {"Ride": ["Bus", "Train"]},
        "Metrics": {"rides": 12}, "User": {"UserId": "u1", "UserAttributes": {"Name": ["Ana"]}},
        "Demographic": {"Platform": "Android", "Timezone": "Europe/Paris"},
        "Location": {"City": "Paris", "Latitude": 48.85, "Longitude": 2}, "OptOut": "NONE",
        "RequestId": "r1", "EffectiveDate": "2024-05-01T10:00:00Z",
    }
    [row] = parse("\ufeff" + json.dumps(endpoint) + "\r\n", fmt="JSON")
    assert row.line == 1
    assert row.item == {**endpoint, "Metrics": {"rides": 12.0}, "Location": {**endpoint["Location"], "Longitude": 2.0}}


def test_json_nulls_and_empty_values_count_as_absent():
    line = ('{"Id": "e1", "Address": "", "ChannelType": null, "Attributes": {"a": [], "b": ["", "x"], "c": null},'
            ' "User": {"UserId": ""}, "Demographic": {"Make": null}, "Location": null}')
    assert items(line, "JSON") == [{"Id": "e1", "Attributes": {"b": ["x"]}}]


def test_json_blank_lines_are_skipped_and_lines_keep_their_numbers():
    content = '\n{"Id": "e1"}\n\n  \n{"Id": "e2"}\n'
    assert [(result.line, result.item) for result in parse(content, "JSON")] == [(2, {"Id": "e1"}), (5, {"Id": "e2"})]


@pytest.mark.parametrize(("line", "named"), [
    ('{"Id": "e1", "Name": "x", "EndpointStatus": "ACTIVE"}', "'Name', 'EndpointStatus'"),
    ('{"Id": "e1", "User": {"UserId": "u", "Attributes": {}}}', "User has unknown member(s) 'Attributes'"),
    ('{"Id": "e1", "Demographic": {"Channel": "x"}}', "Demographic has unknown member(s) 'Channel'"),
    ('{"Id": "e1", "Location": {"Lat": 1}}', "Location has unknown member(s) 'Lat'"),
])
def test_json_unknown_members_fail_naming_them(line, named):
    assert named in failure(line, "JSON").reason


@pytest.mark.parametrize(("line", "named"), [
    ('{"Id": 7}', "Id must be a string, not a number"),
    ('{"Id": "e1", "Attributes": {"Ride": "Bus"}}', "Attributes.Ride must be an array of strings"),
    ('{"Id": "e1", "Attributes": {"Ride": ["Bus", 1]}}', "Attributes.Ride must be an array of strings"),
    ('{"Id": "e1", "Attributes": ["Bus"]}', "Attributes must be a JSON object, not an array"),
    ('{"Id": "e1", "User": {"UserAttributes": {"n": [true]}}}', "User.UserAttributes.n must be an array"),
    ('{"Id": "e1", "Metrics": {"n": "3"}}', "Metrics.n must be a number, not a string"),
    ('{"Id": "e1", "Metrics": {"n": true}}', "Metrics.n must be a number, not a boolean"),
    ('{"Id": "e1", "Metrics": {"n": NaN}}', "not valid JSON"),
    ('{"Id": "e1", "Metrics": {"n": 1e999}}', "Metrics.n must be a finite number"),
    ('{"Id": "e1", "Metrics": {"n": ' + "9" * 400 + "}}", "Metrics.n must be a finite number"),
    ('{"Id": "e1", "Location": {"Latitude": "48.8"}}', "Location.Latitude must be a number"),
    ('{"Id": "e1", "Location": {"Longitude": 190}}', "Location.Longitude must be between -180 and 180"),
    ('{"Id": "e1", "Demographic": {"Make": 3}}', "Demographic.Make must be a string"),
    ('{"Id": "e1", "User": "u1"}', "User must be a JSON object, not a string"),
    ('{"Id": "e1", "Attributes": {"": ["x"]}}', "empty name"),
    ('{"ChannelType": "SMS", "Address": "604"}', "E.164"),
    ('{"ChannelType": "EMAIL"}', "new endpoints need ChannelType and Address; updates need Id"),
    ('{"Id": "e1", "OptOut": "YES"}', "OptOut 'YES' must be ALL or NONE"),
    ('{"Id": "e1", "EffectiveDate": "soon"}', "EffectiveDate 'soon' is not an ISO 8601 date"),
    ('{"Id": "e1", "ChannelType": "FAX", "Address": "1"}', "ChannelType 'FAX' is not one of"),
])
def test_json_type_and_value_checks_fail_the_row(line, named):
    assert named in failure(line, "JSON").reason


def test_json_lines_after_the_first_that_are_not_objects_fail_and_the_import_goes_on():
    content = '{"Id": "e1"}\n{"Id": "e2",\n[1, 2]\n' + "[" * 100_000 + '\n{"Id": "e3"}\n'
    results = parse(content, "JSON")
    assert [type(result).__name__ for result in results] == ["ParsedRow", "RowFailure", "RowFailure", "RowFailure",
                                                             "ParsedRow"]
    assert "not valid JSON" in results[1].reason and "must be a JSON object, not an array" in results[2].reason


def test_json_invalid_utf8_after_the_first_line_fails_that_row():
    results = parse(b'{"Id": "e1"}\n{"Id": "\xe9"}\n', "JSON")
    assert isinstance(results[1], RowFailure) and "UTF-8" in results[1].reason


# Properties and streaming --------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20)
PHONE = st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True)
ATTRIBUTES = st.dictionaries(TEXT, st.lists(TEXT, min_size=1, max_size=3), max_size=3)


@st.composite
def endpoints(draw) -> dict:
    channel = draw(st.sampled_from(CHANNEL_TYPES))
    item = {"Id": draw(TEXT), "ChannelType": channel,
            "Address": draw(PHONE if channel in ("SMS", "VOICE") else TEXT)}
    user = {"UserId": draw(TEXT)} if draw(st.booleans()) else {}
    if user_attributes := draw(ATTRIBUTES):
        user["UserAttributes"] = user_attributes
    if attributes := draw(ATTRIBUTES):
        item["Attributes"] = attributes
    if user:
        item["User"] = user
    return item


def write_csv(endpoints: list[dict]) -> bytes:
    """The endpoints as Pinpoint's CSV: one column per attribute value, repeated as often as needed."""
    def groups(item: dict) -> dict[str, dict[str, list[str]]]:
        user = item.get("User", {})
        return {"Attributes.": item.get("Attributes", {}), "User.UserAttributes.": user.get("UserAttributes", {})}

    widths: dict[str, int] = {}
    for item in endpoints:
        for prefix, values in groups(item).items():
            for name, found in values.items():
                widths[prefix + name] = max(widths.get(prefix + name, 0), len(found))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Id", "ChannelType", "Address", "User.UserId"]
                    + [column for column, width in widths.items() for _ in range(width)])
    for item in endpoints:
        values = {prefix + name: found for prefix, group in groups(item).items() for name, found in group.items()}
        attribute_cells = [cell for column, width in widths.items()
                           for cell in (values.get(column, []) + [""] * width)[:width]]
        writer.writerow([item["Id"], item["ChannelType"], item["Address"], item.get("User", {}).get("UserId", "")]
                        + attribute_cells)
    return out.getvalue().encode()


@settings(max_examples=200, deadline=None)
@given(st.lists(endpoints(), min_size=1, max_size=8))
def test_endpoints_written_as_pinpoint_csv_parse_back_to_the_same_items(generated):
    assert items(write_csv(generated)) == generated


@settings(max_examples=100, deadline=None)
@given(st.lists(endpoints(), min_size=1, max_size=8))
def test_endpoints_written_as_json_lines_parse_back_to_the_same_items(generated):
    content = "\n".join(json.dumps(item, ensure_ascii=bool(len(generated) % 2)) for item in generated)
    assert items(content, "JSON") == generated


def test_a_large_file_is_parsed_lazily_in_bounded_memory():
    consumed = 0

    def lines():
        nonlocal consumed
        yield b"Id,ChannelType,Address,Attributes.Plan,Attributes.Plan\n"
        for number in range(200_000):
            consumed += 1
            yield b'e%d,EMAIL,user%d@example.com,gold,"a,b"\n' % (number, number)

    results = parse_file("big.csv", lines(), "CSV")
    first = next(results)
    assert first.item["Attributes"] == {"Plan": ["gold", "a,b"]} and consumed == 1
    tracemalloc.start()  # traced for 20,000 rows only: tracing is slow
    try:
        traced = sum(1 for _ in itertools.islice(results, 20_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 500_000  # holding 20,000 parsed rows would take well over 10 MB
    assert traced + sum(1 for _ in results) == 199_999 and consumed == 200_000

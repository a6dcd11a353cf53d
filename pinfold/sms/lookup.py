"""Pinpoint's PhoneNumberValidate: what a phone number is (country, type, carrier, time zone),
answered from the `phonenumbers` library's metadata rather than a carrier lookup.

The library knows numbering plans, not subscribers: a number is MOBILE, LANDLINE or VOIP by the
range it is in, and `Carrier` is the range's original operator (a ported number shows its old one).
Ranges that can be either mobile or landline (the US and Canada) answer MOBILE, which is what
senders ask the question for; PREPAID is never answered, since no plan says it.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType, carrier, geocoder, timezone

from pinfold.core.errors import InvalidInput

# PhoneType and its PhoneTypeCode, as Pinpoint documents them.
_CODES = {"MOBILE": 0, "LANDLINE": 1, "VOIP": 2, "INVALID": 3, "OTHER": 4, "PREPAID": 5}
_TYPES = {PhoneNumberType.MOBILE: "MOBILE", PhoneNumberType.FIXED_LINE_OR_MOBILE: "MOBILE",
          PhoneNumberType.FIXED_LINE: "LANDLINE", PhoneNumberType.VOIP: "VOIP"}
MAX_INPUT = 64


def validate(phone_number: str | None, iso_country_code: str | None = None) -> dict:
    """NumberValidateResponse for a number written in E.164, or nationally with its country's code."""
    original = phone_number or ""
    if not original.strip() or len(original) > MAX_INPUT:
        raise InvalidInput(f"PhoneNumber must be 1 to {MAX_INPUT} characters", field="PhoneNumber")
    region = (iso_country_code or "").upper() or None
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"IsoCountryCode {iso_country_code!r} is not a two-letter country code",
                           field="IsoCountryCode")
    answer = {"OriginalPhoneNumber": original, **({"OriginalCountryCodeIso2": region} if region else {})}
    try:
        number = phonenumbers.parse(original, region)
    except phonenumbers.NumberParseException:
        return {**answer, "PhoneType": "INVALID", "PhoneTypeCode": _CODES["INVALID"]}
    if not phonenumbers.is_valid_number(number):
        return {**answer, "PhoneType": "INVALID", "PhoneTypeCode": _CODES["INVALID"]}
    kind = _TYPES.get(phonenumbers.number_type(number), "OTHER")
    country = phonenumbers.region_code_for_number(number)
    zones = timezone.time_zones_for_number(number)
    found = {
        **answer,
        "CleansedPhoneNumberE164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "CleansedPhoneNumberNational": str(number.national_number),
        "Country": geocoder.country_name_for_number(number, "en") or None,
        "CountryCodeIso2": country,
        "CountryCodeNumeric": str(number.country_code),
        "City": geocoder.description_for_number(number, "en") or None,
        "Carrier": carrier.name_for_number(number, "en") or None,
        "Timezone": zones[0] if zones and zones[0] != "Etc/Unknown" else None,
        "PhoneType": kind, "PhoneTypeCode": _CODES[kind],
    }
    return {key: value for key, value in found.items() if value is not None}

"""The simulated inventory RequestPhoneNumber and RequestSenderId draw from: what may be requested,
where, and what it costs a month. Pure; change the tables here to offer more.

Phone numbers (country, NumberType -> monthly price in USD, capabilities offered):

| country | NumberType | price | capabilities |
|---|---|---|---|
| US | TOLL_FREE | 2.00 | SMS, VOICE, MMS |
| US | TEN_DLC | 2.00 | SMS, VOICE, MMS |
| US | LONG_CODE | 1.00 | SMS, VOICE |
| US | SIMULATOR | 1.00 | SMS, VOICE (MessageType TRANSACTIONAL only, as AWS requires) |
| CA | LONG_CODE | 1.00 | SMS, VOICE |
| CA | TOLL_FREE | 2.00 | SMS, VOICE |
| GB, IE, AU, NZ, DE, FR, ES, IT, NL, SE, BR, IN, JP | LONG_CODE | 1.00 to 4.00 | SMS, VOICE |

A number is made up on request: the `phonenumbers` example number for the country and type (mobile
for long codes outside North America) with its subscriber digits replaced at random until the
library accepts it as a valid number of that type, so every number is E.164-valid for its country.
SIMULATOR numbers stay in the reserved 555 exchange of the example, as fictional numbers should.

Sender ids cost SENDER_ID_PRICE a month in every country the metadata knows except those in
SENDER_ID_UNSUPPORTED (the US and Canada, where carriers do not deliver alphanumeric senders).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

_RANDOM = random.SystemRandom()
_NORTH_AMERICA_LOCAL = (PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)


@dataclass(frozen=True)
class Offer:
    country: str
    number_type: str
    price: str  # USD a month, as MonthlyLeasingPrice shows it
    capabilities: frozenset[str]
    kind: int  # the phonenumbers type a made-up number must have
    random_digits: int = 7  # subscriber digits replaced at random


_SMS_VOICE = frozenset({"SMS", "VOICE"})
_ALL = frozenset({"SMS", "VOICE", "MMS"})
_LONG_CODE_PRICES = {"GB": "1.00", "IE": "2.00", "AU": "3.00", "NZ": "2.00", "DE": "1.50", "FR": "4.00",
                     "ES": "2.00", "IT": "3.00", "NL": "2.00", "SE": "2.00", "BR": "2.00", "IN": "2.00", "JP": "3.00"}

OFFERS: dict[tuple[str, str], Offer] = {
    ("US", "TOLL_FREE"): Offer("US", "TOLL_FREE", "2.00", _ALL, PhoneNumberType.TOLL_FREE),
    ("US", "TEN_DLC"): Offer("US", "TEN_DLC", "2.00", _ALL, PhoneNumberType.FIXED_LINE_OR_MOBILE),
    ("US", "LONG_CODE"): Offer("US", "LONG_CODE", "1.00", _SMS_VOICE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
    ("US", "SIMULATOR"): Offer("US", "SIMULATOR", "1.00", _SMS_VOICE, PhoneNumberType.FIXED_LINE_OR_MOBILE, 4),
    ("CA", "LONG_CODE"): Offer("CA", "LONG_CODE", "1.00", _SMS_VOICE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
    ("CA", "TOLL_FREE"): Offer("CA", "TOLL_FREE", "2.00", _SMS_VOICE, PhoneNumberType.TOLL_FREE),
    **{(country, "LONG_CODE"): Offer(country, "LONG_CODE", price, _SMS_VOICE, PhoneNumberType.MOBILE)
       for country, price in _LONG_CODE_PRICES.items()},
}

SENDER_ID_PRICE = "0.00"
SENDER_ID_UNSUPPORTED = frozenset({"US", "CA"})


def offer(country: str, number_type: str) -> Offer | None:
    return OFFERS.get((country, number_type))


def countries_offering(number_type: str) -> list[str]:
    return sorted(country for country, kind in OFFERS if kind == number_type)


def _acceptable(number: phonenumbers.PhoneNumber, item: Offer) -> bool:
    # for_region: North American toll-free numbers are shared by the US and Canada
    if not phonenumbers.is_valid_number_for_region(number, item.country):
        return False
    found = phonenumbers.number_type(number)
    if item.kind == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        return found in _NORTH_AMERICA_LOCAL
    return found == item.kind


def make_number(item: Offer, taken: set[str] | frozenset[str] = frozenset(), attempts: int = 200) -> str | None:
    """A valid E.164 number of the offer's country and type that is not in `taken`, or None when
    none was found in `attempts` tries."""
    example = phonenumbers.example_number_for_type(item.country, item.kind)
    if example is None:
        return None
    national = str(example.national_number)
    keep = max(len(national) - item.random_digits, 1)
    for _ in range(attempts):
        digits = national[:keep] + "".join(_RANDOM.choice("0123456789") for _ in range(len(national) - keep))
        candidate = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(digits))
        if _acceptable(candidate, item):
            text = phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
            if text not in taken:
                return text
    return None

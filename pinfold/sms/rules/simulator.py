"""The simulator destination numbers End User Messaging documents: per country, one number whose
messages are delivered and one whose messages fail. Messages to them never leave the service, but
they are charged and count toward the spend limit, and they may be sent to from the sandbox. A
SIMULATOR origination number reaches only the simulator destinations of its own country."""

from __future__ import annotations

# country: (success number, failure number)
DESTINATIONS = {
    "US": ("+14254147755", "+14254147167"),
    "GB": ("+447860019066", "+447860019067"),
    "AU": ("+61455944038", "+61455944039"),
    "AT": ("+43676800442031", "+43676800442032"),
    "BE": ("+32460213922", "+32460213923"),
    "CL": ("+56229140630", "+56229140631"),
    "CZ": ("+420790542286", "+420790542287"),
    "DK": ("+4525919410", "+4525919215"),
    "EE": ("+37282720792", "+37282720793"),
    "FI": ("+3584573979110", "+3584573979111"),
    "FR": ("+33755512501", "+33755512502"),
    "HK": ("+85257048426", "+85257048854"),
    "HU": ("+36707178770", "+36707178772"),
    "IT": ("+394390009172", "+394390009174"),
    "JE": ("+447937404990", "+447937404992"),
    "LU": ("+352691385880", "+352691385882"),
    "NL": ("+3197008100148", "+3197008100150"),
    "NO": ("+4759449384", "+4759449387"),
    "PL": ("+48732141440", "+48732141442"),
    "PT": ("+351927946948", "+351927946950"),
    "RO": ("+40783900330", "+40783900332"),
    "ES": ("+34683783440", "+34683783442"),
    "SE": ("+46790645100", "+46790645102"),
    "CH": ("+41798075872", "+41798075874"),
    "TW": ("+886903444630", "+886903444632"),
}
_ROLES = {number: (country, role) for country, pair in DESTINATIONS.items()
          for number, role in zip(pair, ("success", "failure"), strict=True)}


def role_of(number: str) -> str | None:
    """"success" or "failure" for a simulator destination number (E.164), None for any other number."""
    found = _ROLES.get(number)
    return found[1] if found else None


def country_of(number: str) -> str | None:
    """The country a simulator destination number stands for, None for any other number."""
    found = _ROLES.get(number)
    return found[0] if found else None


def is_destination(number: str) -> bool:
    return number in _ROLES

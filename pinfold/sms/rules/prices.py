"""What a text message costs in Pinfold, per part, by destination country, in US dollars.

These are Pinfold's own round figures, in the range carriers charged in 2024-2025, not AWS's price
list (which changes by carrier and month). They exist so spend limits, MaxPrice and the price in
event records behave as they do at AWS; an operator who bills its tenants uses its own tariff.
"""

from __future__ import annotations

DEFAULT_PRICE = 0.05  # a country not in the table
PRICES = {
    "US": 0.0075, "CA": 0.0075, "PR": 0.0075,
    "GB": 0.04, "JE": 0.04, "IE": 0.07, "FR": 0.07, "DE": 0.09, "ES": 0.07, "IT": 0.08, "NL": 0.09, "BE": 0.08,
    "AT": 0.07, "CH": 0.06, "SE": 0.06, "NO": 0.06, "DK": 0.05, "FI": 0.08, "PL": 0.04, "PT": 0.04, "RO": 0.07,
    "CZ": 0.06, "HU": 0.09, "LU": 0.05, "EE": 0.08,
    "AU": 0.04, "NZ": 0.10, "HK": 0.05, "TW": 0.06, "JP": 0.07, "SG": 0.04, "IN": 0.003,
    "BR": 0.05, "MX": 0.03, "CL": 0.05,
}


def price_per_part(country: str) -> float:
    return PRICES.get(country, DEFAULT_PRICE)


def price_of(country: str, parts: int) -> float:
    """The price of a message of `parts` parts to `country` (rounded to a hundred-thousandth of a dollar,
    MaxPrice's precision)."""
    return round(price_per_part(country) * parts, 5)

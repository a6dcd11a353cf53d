"""Pinpoint's phone number lookup."""

from __future__ import annotations

from pinfold.sms import lookup


def _phone_number_validate(ctx, caller, p):
    request = p["NumberValidateRequest"]
    return {"NumberValidateResponse": lookup.validate(request.get("PhoneNumber"), request.get("IsoCountryCode"))}


HANDLERS = {"PhoneNumberValidate": _phone_number_validate}

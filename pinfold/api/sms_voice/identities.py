"""SMS-Voice v2 handlers for origination identities: phone numbers, sender ids, pools and keywords,
each a call into `pinfold.sms.identities` or `pinfold.sms.pools`."""

from __future__ import annotations

from pinfold.sms import identities, pools


def _paging(p: dict) -> dict:
    return {"max_results": p.get("MaxResults"), "token": p.get("NextToken")}


def _listing(p: dict) -> dict:
    return {"filters": p.get("Filters"), "owner": p.get("Owner"), **_paging(p)}


HANDLERS: dict = {
    # phone numbers
    "RequestPhoneNumber": lambda ctx, caller, p: identities.request_number(ctx, caller, p),
    "DescribePhoneNumbers": lambda ctx, caller, p: identities.describe_numbers(
        ctx, caller, p.get("PhoneNumberIds"), **_listing(p)),
    "UpdatePhoneNumber": lambda ctx, caller, p: identities.update_number(ctx, caller, p),
    "ReleasePhoneNumber": lambda ctx, caller, p: identities.release_number(ctx, caller, p["PhoneNumberId"]),
    # sender ids
    "RequestSenderId": lambda ctx, caller, p: identities.request_sender_id(ctx, caller, p),
    "DescribeSenderIds": lambda ctx, caller, p: identities.describe_sender_ids(
        ctx, caller, p.get("SenderIds"), **_listing(p)),
    "UpdateSenderId": lambda ctx, caller, p: identities.update_sender_id(
        ctx, caller, p["SenderId"], p["IsoCountryCode"], p.get("DeletionProtectionEnabled")),
    "ReleaseSenderId": lambda ctx, caller, p: identities.release_sender_id(
        ctx, caller, p["SenderId"], p["IsoCountryCode"]),
    # pools
    "CreatePool": lambda ctx, caller, p: pools.create(ctx, caller, p),
    "DescribePools": lambda ctx, caller, p: pools.describe(ctx, caller, p.get("PoolIds"), **_listing(p)),
    "UpdatePool": lambda ctx, caller, p: pools.update(ctx, caller, p),
    "DeletePool": lambda ctx, caller, p: pools.delete(ctx, caller, p["PoolId"]),
    "AssociateOriginationIdentity": lambda ctx, caller, p: pools.associate(
        ctx, caller, p["PoolId"], p["OriginationIdentity"], p.get("IsoCountryCode")),
    "DisassociateOriginationIdentity": lambda ctx, caller, p: pools.disassociate(
        ctx, caller, p["PoolId"], p["OriginationIdentity"], p.get("IsoCountryCode")),
    "ListPoolOriginationIdentities": lambda ctx, caller, p: pools.list_identities(
        ctx, caller, p["PoolId"], p.get("Filters"), **_paging(p)),
    # keywords
    "PutKeyword": lambda ctx, caller, p: pools.put_keyword(
        ctx, caller, p["OriginationIdentity"], p["Keyword"], p["KeywordMessage"], p.get("KeywordAction")),
    "DescribeKeywords": lambda ctx, caller, p: pools.describe_keywords(
        ctx, caller, p["OriginationIdentity"], p.get("Keywords"), p.get("Filters"), **_paging(p)),
    "DeleteKeyword": lambda ctx, caller, p: pools.delete_keyword(ctx, caller, p["OriginationIdentity"], p["Keyword"]),
}

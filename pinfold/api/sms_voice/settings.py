"""SMS-Voice v2 handlers for opt-out lists, configuration sets and event destinations, the account
(attributes, limits, spend, verified destination numbers) and tags: each a call into `pinfold.sms`."""

from __future__ import annotations

from pinfold.sms import account, configuration_sets, opt_outs, tags


def _paging(p: dict) -> dict:
    return {"max_results": p.get("MaxResults"), "token": p.get("NextToken")}


def _destination(p: dict) -> dict:
    """The members of an event destination request other than the set's and destination's names."""
    return {key: value for key, value in p.items() if key not in ("ConfigurationSetName", "EventDestinationName")}


HANDLERS: dict = {
    # opt-out lists and opted-out numbers
    "CreateOptOutList": lambda ctx, caller, p: opt_outs.create_list(ctx, caller, p["OptOutListName"], p.get("Tags")),
    "DescribeOptOutLists": lambda ctx, caller, p: opt_outs.describe_lists(
        ctx, caller, p.get("OptOutListNames"), p.get("Owner"), **_paging(p)),
    "DeleteOptOutList": lambda ctx, caller, p: opt_outs.delete_list(ctx, caller, p["OptOutListName"]),
    "PutOptedOutNumber": lambda ctx, caller, p: opt_outs.put_number(
        ctx, caller, p["OptOutListName"], p["OptedOutNumber"]),
    "DescribeOptedOutNumbers": lambda ctx, caller, p: opt_outs.describe_numbers(
        ctx, caller, p["OptOutListName"], p.get("OptedOutNumbers"), p.get("Filters"), **_paging(p)),
    "DeleteOptedOutNumber": lambda ctx, caller, p: opt_outs.delete_number(
        ctx, caller, p["OptOutListName"], p["OptedOutNumber"]),
    # configuration sets
    "CreateConfigurationSet": lambda ctx, caller, p: configuration_sets.create(
        ctx, caller, p["ConfigurationSetName"], p.get("Tags")),
    "DescribeConfigurationSets": lambda ctx, caller, p: configuration_sets.describe(
        ctx, caller, p.get("ConfigurationSetNames"), p.get("Filters"), **_paging(p)),
    "DeleteConfigurationSet": lambda ctx, caller, p: configuration_sets.delete(ctx, caller, p["ConfigurationSetName"]),
    "SetDefaultSenderId": lambda ctx, caller, p: configuration_sets.set_default_sender_id(
        ctx, caller, p["ConfigurationSetName"], p["SenderId"]),
    "DeleteDefaultSenderId": lambda ctx, caller, p: configuration_sets.delete_default_sender_id(
        ctx, caller, p["ConfigurationSetName"]),
    "SetDefaultMessageType": lambda ctx, caller, p: configuration_sets.set_default_message_type(
        ctx, caller, p["ConfigurationSetName"], p["MessageType"]),
    "DeleteDefaultMessageType": lambda ctx, caller, p: configuration_sets.delete_default_message_type(
        ctx, caller, p["ConfigurationSetName"]),
    "SetDefaultMessageFeedbackEnabled": lambda ctx, caller, p: configuration_sets.set_default_message_feedback(
        ctx, caller, p["ConfigurationSetName"], p["MessageFeedbackEnabled"]),
    # event destinations
    "CreateEventDestination": lambda ctx, caller, p: configuration_sets.create_destination(
        ctx, caller, p["ConfigurationSetName"], p["EventDestinationName"], _destination(p)),
    "UpdateEventDestination": lambda ctx, caller, p: configuration_sets.update_destination(
        ctx, caller, p["ConfigurationSetName"], p["EventDestinationName"], _destination(p)),
    "DeleteEventDestination": lambda ctx, caller, p: configuration_sets.delete_destination(
        ctx, caller, p["ConfigurationSetName"], p["EventDestinationName"]),
    # the account
    "DescribeAccountAttributes": lambda ctx, caller, p: account.describe_attributes(ctx, caller, **_paging(p)),
    "DescribeAccountLimits": lambda ctx, caller, p: account.describe_limits(ctx, caller, **_paging(p)),
    "DescribeSpendLimits": lambda ctx, caller, p: account.describe_spend_limits(ctx, caller, **_paging(p)),
    "SetTextMessageSpendLimitOverride": lambda ctx, caller, p: account.set_spend_override(
        ctx, caller, p["MonthlyLimit"]),
    "DeleteTextMessageSpendLimitOverride": lambda ctx, caller, p: account.delete_spend_override(ctx, caller),
    # verified destination numbers
    "CreateVerifiedDestinationNumber": lambda ctx, caller, p: account.create_verified_number(
        ctx, caller, p["DestinationPhoneNumber"], p.get("Tags")),
    "SendDestinationNumberVerificationCode": lambda ctx, caller, p: account.send_verification_code(
        ctx, caller, p["VerifiedDestinationNumberId"], p["VerificationChannel"], p.get("OriginationIdentity")),
    "VerifyDestinationNumber": lambda ctx, caller, p: account.verify_number(
        ctx, caller, p["VerifiedDestinationNumberId"], p["VerificationCode"]),
    "DescribeVerifiedDestinationNumbers": lambda ctx, caller, p: account.describe_verified_numbers(
        ctx, caller, p.get("VerifiedDestinationNumberIds"), p.get("DestinationPhoneNumbers"), p.get("Filters"),
        **_paging(p)),
    "DeleteVerifiedDestinationNumber": lambda ctx, caller, p: account.delete_verified_number(
        ctx, caller, p["VerifiedDestinationNumberId"]),
    # tags
    "TagResource": lambda ctx, caller, p: tags.tag_resource(ctx, caller, p["ResourceArn"], p["Tags"]) or {},
    "UntagResource": lambda ctx, caller, p: tags.untag_resource(ctx, caller, p["ResourceArn"], p["TagKeys"]) or {},
    "ListTagsForResource": lambda ctx, caller, p: tags.list_tags(ctx, caller, p["ResourceArn"]),
}

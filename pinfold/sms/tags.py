"""Tags on SMS resources (TagResource, UntagResource, ListTagsForResource, and `Tags` on Create*).

Tags live in the shared `tags` table keyed by the resource's ARN. An ARN is accepted only when it
names an existing SMS resource of the caller's own account and region; anything else is absent
(ResourceNotFoundException), so one account cannot probe another's; so is another tenant's pool,
set or pooled number to a confined caller (`access.Hidden`). This API allows 200 tags a
resource (Pinpoint allows 50); key and value lengths are the same as everywhere.
"""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.arns import parse_arn, sms_arn
from pinfold.core.errors import InvalidInput, LimitExceeded, NotFound
from pinfold.core.tags import MAX_KEY, MAX_VALUE
from pinfold.projects import store as tag_store
from pinfold.sms import access, account  # account: a module import, as it tags what it creates (each needs the other)
from pinfold.sms.store import resources

MAX_TAGS = 200  # per resource, this API's TagList maximum
# The resource types an ARN may name and the `sms_resources` kind that holds them.
TAGGABLE = ("phone-number", "sender-id", "pool", "opt-out-list", "configuration-set",
            "verified-destination-number")


def tag_map(tag_list: list[dict] | None) -> dict[str, str]:
    """A request's TagList as a map, checked against this API's limits."""
    tags = {item["Key"]: item["Value"] for item in tag_list or []}
    check(tags)
    return tags


def tag_list(tags: dict[str, str]) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def check(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise LimitExceeded(f"A resource can have at most {MAX_TAGS} tags; this one would have {len(tags)}",
                            details={"Reason": "TAGS_PER_RESOURCE"})
    for key, value in tags.items():
        if not key or len(key) > MAX_KEY or len(value) > MAX_VALUE:
            raise InvalidInput(f"Tag keys are 1 to {MAX_KEY} characters and values at most {MAX_VALUE}",
                               field="Tags", details={"Reason": "FIELD_VALIDATION_FAILED"})


def attach(conn, arn: str, tags: dict[str, str]) -> list[dict]:
    """Tag a resource being created; the TagList its Create* answer carries."""
    if tags:
        tag_store.put_tags(conn, arn, tags)
    return tag_list(tags)


def detach_all(conn, arn: str) -> None:
    """Forget a deleted resource's tags."""
    tag_store.delete_tags(conn, arn)


def _resource_arn(conn, caller: Caller, arn: str) -> str:
    """The ARN if it names an existing SMS resource of the caller's account and region; NotFound otherwise."""
    parsed = parse_arn(arn)
    kind, resource_id = parsed.resource_type, parsed.resource.partition("/")[2]
    if kind == "sender-id":  # AWS writes sender-id/<SenderId>/<country>; the row's id is <SenderId>:<country>
        resource_id = resource_id.replace("/", ":")
    missing = NotFound(f"Resource {arn} does not exist", details={"ResourceType": kind if kind in TAGGABLE
                                                                   else "account", "ResourceId": arn})
    if (parsed.service, parsed.region, parsed.account_id) != ("sms-voice", caller.region, caller.account_id):
        raise missing
    found = resources.get(conn, caller.account_id, caller.region, kind, resource_id) if kind in TAGGABLE else None
    if found is None or not access.hidden_from(conn, caller).shows(found):
        raise missing
    return sms_arn(caller.region, caller.account_id, kind, resource_id)


def tag_resource(ctx: Context, caller: Caller, arn: str, new_tags: list[dict]) -> None:
    account.require_admin(caller, "tag the account's SMS resources")
    additions = {item["Key"]: item["Value"] for item in new_tags}
    with ctx.db.write() as conn:
        arn = _resource_arn(conn, caller, arn)
        check({**tag_store.get_tags(conn, arn), **additions})
        tag_store.put_tags(conn, arn, additions)


def untag_resource(ctx: Context, caller: Caller, arn: str, keys: list[str]) -> None:
    account.require_admin(caller, "untag the account's SMS resources")
    with ctx.db.write() as conn:
        tag_store.delete_tags(conn, _resource_arn(conn, caller, arn), list(keys))


def list_tags(ctx: Context, caller: Caller, arn: str) -> dict:
    with ctx.db.read() as conn:
        arn = _resource_arn(conn, caller, arn)
        return {"ResourceArn": arn, "Tags": tag_list(tag_store.get_tags(conn, arn))}

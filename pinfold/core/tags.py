"""Resource tag limits, as AWS documents them for tagging (Pinpoint's model leaves them out)."""

from __future__ import annotations

from pinfold.core.errors import LimitExceeded

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256


def check_tags(tags: dict[str, str]) -> None:
    """Raise if a resource would end up with more tags, or longer keys or values, than AWS allows."""
    if len(tags) > MAX_TAGS:
        raise LimitExceeded(f"Tag limit exceeded: a resource can have at most {MAX_TAGS} tags; this one would have "
                            f"{len(tags)}")
    for key, value in tags.items():
        if not key or len(key) > MAX_KEY:
            raise LimitExceeded(f"Tag key length limit exceeded: keys are 1 to {MAX_KEY} characters", field="tags")
        if len(value) > MAX_VALUE:
            raise LimitExceeded(f"Tag value length limit exceeded: tag {key[:40]!r} has a value over {MAX_VALUE} "
                                "characters", field="tags")

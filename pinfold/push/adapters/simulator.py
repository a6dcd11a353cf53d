"""The built-in push simulator: the default push adapter. It keeps each push it is given as a JSON file
under `<directory>/<UTC date>/<message id>.json` (a push delivered again after a crash is kept beside
the first as `<message id>.2.json`) and answers as the providers would for a token that starts with
`invalid`: unregistered (APNs 410 Unregistered, FCM 404 UNREGISTERED), so the endpoint can be
retired. Every other token is delivered, with a remote id made up as the provider would.

Reading what it kept (`list_pushes`, `read_push`) needs the files only, never the database, so it
works while the server runs or is stopped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

from pinfold.core import dayfiles
from pinfold.push.adapters.base import APNS_PLATFORMS, OutgoingPush, answer_each, refused
from pinfold.sending.channel import Acknowledged, Outcome


class PushSimulator:
    """Keeps pushes as files and answers as a push provider would, at once."""

    name = "simulator"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def deliver(self, pushes: list[OutgoingPush], acknowledged: Acknowledged | None = None) -> list[Outcome]:
        return answer_each(pushes, self._deliver_one, acknowledged)

    def close(self) -> None:
        """Nothing to release: every push is written and closed as it is delivered."""

    def _deliver_one(self, push: OutgoingPush) -> Outcome:
        if push.token.startswith("invalid"):
            stored = self._store(push, "UNREGISTERED")
            if push.platform in APNS_PLATFORMS:
                body = {"reason": "Unregistered", "timestamp": int(datetime.now(UTC).timestamp() * 1000)}
                return refused("permanent", push, code=410, error="Unregistered", response=orjson.dumps(body).decode(),
                               message=f"the token is unregistered (push simulator); kept as {stored}")
            body = {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
                              "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                           "errorCode": "UNREGISTERED"}]}}
            return refused("permanent", push, code=404, error="UNREGISTERED", response=orjson.dumps(body).decode(),
                           message=f"the token is unregistered (push simulator); kept as {stored}")
        remote_id = str(uuid.uuid4()).upper()
        if push.platform == "GCM":  # FCM names a message within its project
            remote_id = f"projects/pinfold-simulator/messages/{remote_id}"
        stored = self._store(push, "DELIVERED", remote_id)
        return Outcome("delivered", f"delivered by the push simulator; kept as {stored}", 200, remote_id=remote_id)

    def _store(self, push: OutgoingPush, status: str, remote_id: str | None = None) -> str:
        now = datetime.now(UTC)
        content = orjson.dumps({
            "message_id": push.message_id, "token": push.token, "platform": push.platform,
            "payload": push.payload, "headers": push.headers, "remote_id": remote_id,
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "outcome": status,
        }, option=orjson.OPT_INDENT_2)
        return dayfiles.keep(self.directory, push.message_id, content, now)


def list_pushes(directory: Path, *, token: str | None = None, limit: int = dayfiles.DEFAULT_LIMIT,
                next_token: str | None = None) -> tuple[list[dict], str | None]:
    """The kept pushes, newest first, and the next page's token, if any; `token` keeps only those to
    one device token."""
    return dayfiles.kept_page(directory, wanted=lambda push: not token or push.get("token") == token, limit=limit,
                              next_token=next_token)


def read_push(directory: Path, message: str) -> dict:
    """One kept push by its id (a message id, or `<message id>.<n>` for a repeated delivery)."""
    return dayfiles.kept_one(directory, message, f"No push {message} in the push simulator")

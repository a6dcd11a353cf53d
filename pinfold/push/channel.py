"""Push's half of the sending pipeline (sending/channel.py): the `push_messages` queue, the gate (the
push's expiry, and its project's channel: still set up, enabled and deliverable), and one route per
project channel to the adapter that carries it. What the outcomes mean: push/outcomes.py.

Which adapter: on the embedded default (PINFOLD_PUSH_DELIVERY=simulator) the push simulator under
`<data dir>/push` takes every push; with `providers`, APNs or FCM with the project channel's
credentials, an adapter (one HTTP/2 connection) per project channel and authentication method, made
when first needed and made again when the channel changes (a new version). A push goes by the
channel's DefaultAuthenticationMethod unless its message preferred another the channel holds
credentials for (PreferredAuthenticationMethod); one that prefers a method the channel cannot use
fails. Baidu and ADM have no provider adapter yet: their pushes fail with a message saying so.

The channel's settings come through `stored` (the wiring passes messaging's reader: push sits below
messaging and does not read its tables); the credentials in them are opened here, only to make an
adapter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import orjson

from pinfold.context import Context
from pinfold.core.errors import InvalidInput
from pinfold.push import credentials
from pinfold.push.adapters.apns import ApnsGateway
from pinfold.push.adapters.base import OutgoingPush, PushAdapter
from pinfold.push.adapters.fcm import FcmGateway
from pinfold.push.adapters.simulator import PushSimulator
from pinfold.push.outcomes import decide as decide_outcomes
from pinfold.push.store import messages as store
from pinfold.sending import queue
from pinfold.sending.channel import Outcome

log = logging.getLogger(__name__)

CLAIM_LIMIT = 500  # pushes a pass claims at once
IDLE_SECONDS = 600.0  # a provider adapter nothing has used this long is closed
StoredChannel = Callable[[object, str, str], dict | None]  # (conn, project id, platform) -> the channel's row


@dataclass(eq=False)
class Claimed(queue.Claimed):
    """A claimed push; `held` is (status, why) when it is not sent."""

    route: tuple | None = None
    push: OutgoingPush | None = None


class Gateways:
    """The adapters pushes leave by, shared by both lanes' channels and closed together."""

    def __init__(self, ctx: Context, stored: StoredChannel) -> None:
        self.ctx, self.stored = ctx, stored
        self.simulator = PushSimulator(ctx.settings.data_dir / "push")
        self._adapters: dict[tuple, PushAdapter] = {}  # by (project id, platform, version, method)
        self._used: dict[tuple, float] = {}  # when each was last let go (time.monotonic)
        self._busy: Counter[tuple] = Counter()  # how many deliveries use each now
        self._lock = threading.Lock()

    def route(self, conn, project_id: str, platform: str, preferred: str | None = None) -> tuple | str:
        """The route a project channel's pushes take now (with the method `preferred` when given), or
        why they cannot go."""
        row = self.stored(conn, project_id, platform)
        if row is None or not row["document"].get("Enabled", True):
            return f"The {platform} channel is not enabled for this project"
        try:
            method = credentials.method_for(self.ctx.secrets, platform, row["document"], preferred)
        except InvalidInput as refused:
            return refused.message
        if self.ctx.settings.push_delivery == "simulator":
            return ("simulator",)
        if platform not in credentials.APNS_KINDS and platform != credentials.GCM:
            return (f"Pinfold delivers {credentials.LABELS[platform]} pushes only to its push simulator "
                    "(PINFOLD_PUSH_DELIVERY=simulator)")
        return project_id, platform, row["version"], method

    @contextmanager
    def using(self, route: tuple) -> Iterator[PushAdapter]:
        """The adapter of a route (as `route` gave it), made on first use (an older version's is closed),
        and not closed as idle while it is in use."""
        if route == ("simulator",):
            yield self.simulator
            return
        with self._lock:
            found = self._adapters.get(route)
            if found is None:
                project_id, platform, version, method = route
                for key in [key for key in self._adapters if key[:2] == (project_id, platform) and key[2] != version]:
                    self._drop(key)  # the channel changed since
                found = self._adapters[route] = self._make(project_id, platform, method)
            self._busy[route] += 1
        try:
            yield found
        finally:
            with self._lock:
                self._busy[route] -= 1
                self._used[route] = time.monotonic()

    def sweep(self, now: float | None = None) -> int:
        """Close the adapters nothing has used for IDLE_SECONDS: each holds a connection (and APNs's a
        thread), and a channel deleted, disabled or just quiet would otherwise keep its adapter open for
        the process's life. The next push makes it again. Returns how many it closed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [route for route in self._adapters
                    if not self._busy[route] and now - self._used.get(route, now) >= IDLE_SECONDS]
            closing = [self._adapters[route] for route in idle]
            for route in idle:
                self._drop(route, close=False)
        for adapter in closing:
            adapter.close()
        return len(closing)

    def _drop(self, route: tuple, *, close: bool = True) -> None:
        adapter = self._adapters.pop(route)
        self._used.pop(route, None)
        self._busy.pop(route, None)
        if close:
            adapter.close()

    def _make(self, project_id: str, platform: str, method: str | None) -> PushAdapter:
        with self.ctx.db.read() as conn:
            row = self.stored(conn, project_id, platform)
        if row is None:  # deleted since the gate looked
            raise ValueError(f"the {platform} channel was deleted")
        document = row["document"]
        sealed = credentials.opened(self.ctx.secrets, document)
        settings = self.ctx.settings
        ca_bundle = settings.push_ca_bundle or None
        if platform == credentials.GCM:
            if method == "TOKEN" and sealed.get("ServiceJson"):
                return FcmGateway(orjson.loads(sealed["ServiceJson"]), base_url=settings.fcm_url, ca_bundle=ca_bundle)
            return FcmGateway(legacy_key=sealed.get("ApiKey"), base_url=settings.fcm_url, ca_bundle=ca_bundle)
        urls = {"production_url": settings.apns_url, "sandbox_url": settings.apns_sandbox_url, "ca_bundle": ca_bundle}
        if method == "TOKEN":
            return ApnsGateway(document.get("BundleId"), team_id=document.get("TeamId"),
                               key_id=document.get("TokenKeyId"), token_key=sealed.get("TokenKey"), **urls)
        return ApnsGateway(document.get("BundleId"), certificate=sealed.get("Certificate"),
                           certificate_key=sealed.get("PrivateKey"), **urls)

    def close(self) -> None:
        with self._lock:
            adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            adapter.close()
        self.simulator.close()


class PushChannel(queue.StoreQueue):
    """The push channel as the pipeline drives it, claiming from `lanes` (in that order)."""

    name = "push"

    def __init__(self, ctx: Context, gateways: Gateways, lanes: tuple[int, ...] = queue.LANES) -> None:
        self.ctx, self.gateways, self.lanes = ctx, gateways, lanes

    # The queue (sending/queue.StoreQueue): push_messages, the lease's expiry as the sending ones' due_at.
    queue_store, claim_limit = store, CLAIM_LIMIT

    def claimed(self, row: dict, now: float) -> Claimed:
        return Claimed(row, now)

    # The steps.

    def gate(self, conn, claimed: list[Claimed]) -> list[Claimed]:
        """Hold back pushes past their expiry, and those whose channel cannot send now."""
        routes: dict[tuple, tuple | str] = {}
        for item in claimed:
            message = item.row["message"]
            if item.claimed_at > message["expires_at"]:
                item.held = ("expired", "the push expired before a provider took it")
                continue
            key = (item.row["project_id"], message["platform"], message.get("auth"))
            if key not in routes:
                routes[key] = self.gateways.route(conn, *key)
            if isinstance(routes[key], str):
                item.held = ("failed", routes[key])
            else:
                item.route = routes[key]
        return [item for item in claimed if item.held is None]

    def compose(self, passed: list[Claimed]) -> list[Claimed]:
        for item in passed:
            message = item.row["message"]
            item.push = OutgoingPush(item.id, message["token"], message["platform"], message["payload"],
                                     message.get("headers") or {})
        return passed

    def routes(self, ready: list[Claimed]) -> dict[tuple, list[Claimed]]:
        grouped: dict[tuple, list[Claimed]] = {}
        for item in ready:
            grouped.setdefault(item.route, []).append(item)
        return grouped

    def deliver(self, route: tuple, items: list[Claimed], acknowledged: Callable[[Claimed], bool]) -> None:
        def carried(index: int, outcome: Outcome) -> bool:
            item = items[index]
            item.outcome = outcome
            return acknowledged(item)

        with ExitStack() as held:
            try:
                adapter = held.enter_context(self.gateways.using(route))
            except ValueError as error:  # credentials the adapter cannot use (checked when set, so rare)
                log.warning("push channel %s of project %s cannot send: %s", route[1], route[0], error)
                for index, _item in enumerate(items):
                    if carried(index, Outcome("permanent", f"The channel's credentials cannot be used: {error}")) \
                            is False:
                        return
                return
            adapter.deliver([item.push for item in items], carried)

    def decide(self, conn, group: list[Claimed], *, now: float) -> tuple[list[dict], list[dict]]:
        return decide_outcomes(conn, group, now=now)

    def after_pass(self) -> None:
        """Providers answer as they take a push, so nothing waits; adapters long unused are closed."""
        self.gateways.sweep()

    def close(self) -> None:
        """The gateways are shared by the lanes' channels: their owner (PushDelivery) closes them."""

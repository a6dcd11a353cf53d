"""Push delivery inside a server or worker: the push channel on the sending pipeline, a worker per lane
(sending/lanes.py), beside email's and SMS's."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.push.channel import Gateways, PushChannel, StoredChannel
from pinfold.sending.lanes import LaneWorkers


class PushDelivery(LaneWorkers):
    """The push sending threads of both lanes; the lanes share the adapters (`gateways`), closed once
    both workers have stopped."""

    def __init__(self, ctx: Context, stored: StoredChannel) -> None:
        self.gateways = Gateways(ctx, stored)
        super().__init__(ctx, "push", lambda lanes: PushChannel(ctx, self.gateways, lanes=lanes),
                         self.gateways.close)

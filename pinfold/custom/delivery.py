"""Custom-channel delivery inside a server or worker: the custom channel on the sending pipeline, a
worker per lane (sending/lanes.py), beside the other channels'."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.custom.adapters.webhook import WebhookGateway
from pinfold.custom.channel import CustomChannel
from pinfold.sending.lanes import LaneWorkers


class CustomDelivery(LaneWorkers):
    """The custom channel's sending threads of both lanes, sharing one webhook gateway."""

    def __init__(self, ctx: Context) -> None:
        self.gateway = WebhookGateway(timeout=ctx.settings.custom_timeout_seconds)
        super().__init__(ctx, "custom", lambda lanes: CustomChannel(ctx, self.gateway, lanes=lanes),
                         self.gateway.close)

"""SMS delivery inside a server or worker: the SMS channel on the sending pipeline, a worker per lane
(sending/lanes.py), beside email's and sharing nothing with it but the database."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.sending.lanes import LaneWorkers
from pinfold.sms.adapters.base import SmsAdapter
from pinfold.sms.channel import SmsChannel


class SmsDelivery(LaneWorkers):
    """The SMS sending threads of both lanes. A given `adapter` carries both lanes' texts (Kannel's
    connections are few) and is closed here, once both workers have stopped; without one each lane's
    channel keeps texts in the carrier simulator."""

    def __init__(self, ctx: Context, adapter: SmsAdapter | None = None) -> None:
        super().__init__(ctx, "sms", lambda lanes: SmsChannel(ctx, adapter, lanes=lanes),
                         adapter.close if adapter is not None else None)

"""The SMS gateway's callbacks: Kannel fetches a delivery-report URL for each text it took, and its
sms-service `get-url` for each message a handset sends to one of Pinfold's numbers.

Both are plain GETs without AWS signatures (Kannel cannot sign): each carries a token only this
installation can make (sms/reports.py), and anything else is answered 403 without a word about why.
The answers are empty: with `max-messages = 0`, Kannel sends nothing back itself; replies to
keywords go out as texts through the sending pipeline.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

MAX_PARAMETER = 2000  # characters: a text is at most 1600, numbers and tokens far less

Report = Callable[[str, str, str, str], bool]  # (message id, token, status, reply) -> accepted
Inbound = Callable[[str, str, str, str], bool]  # (key, from, to, text) -> accepted


def sms_gateway_routes(report_path: str, inbound_path: str, report: Report, inbound: Inbound) -> Router:
    def parameter(request: Request, name: str) -> str:
        return request.query_params.get(name, "")[:MAX_PARAMETER]

    async def delivery_report(request: Request) -> Response:
        try:
            accepted = await run_in_threadpool(report, parameter(request, "message"), parameter(request, "token"),
                                               parameter(request, "status"), parameter(request, "reply"))
        except Exception:  # not written (the database failed): the gateway may send it again
            return Response(status_code=503)
        return Response(status_code=200 if accepted else 403)

    async def inbound_message(request: Request) -> Response:
        accepted = await run_in_threadpool(inbound, parameter(request, "key"), parameter(request, "from"),
                                           parameter(request, "to"), parameter(request, "text"))
        return Response(status_code=200 if accepted else 403)

    return Router([Route(report_path, delivery_report, methods=["GET"]),
                   Route(inbound_path, inbound_message, methods=["GET"])])

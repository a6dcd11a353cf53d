"""The Kannel adapter against a real Kannel (bearerbox, smsbox, fakesmsc on loopback): texts reach the
carrier with their sender, GSM and UCS-2 bodies intact, delivery reports come back to the URL each
text names, refusals are permanent or transient as they should be, and a stop request is honoured."""

from __future__ import annotations

import http.server
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from pinfold.sms.adapters.base import OutgoingText
from pinfold.sms.adapters.kannel import KannelGateway
from tests import kannel
from tests.conftest import free_port


@pytest.fixture
def reports():
    """An HTTP receiver standing in for Pinfold's report endpoint; yields (its URL, the queries it got)."""
    got: list[dict] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            got.append({key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()


def _text(number: int, body: str = "Hello", encoding: str = "GSM", destination: str = "+14254147755") -> OutgoingText:
    return OutgoingText(f"m-{number}", destination, "+15550100", body, (body,), encoding, "TRANSACTIONAL", "US")


def test_texts_reach_the_carrier_and_reports_come_back(tmp_path, reports):
    receiver, got = reports
    with kannel.running(tmp_path / "kannel", f"{receiver}/mo?from=%p&to=%P&text=%a") as gateway:
        adapter = KannelGateway(gateway.sendsms_url + "?connections=4",
                                lambda message_id: f"{receiver}/dlr?message={message_id}&status=%d")
        told = []
        try:
            outcomes = adapter.deliver([_text(1), _text(2, "Grüße ’quoted’", "Unicode"), _text(3, "x" * 300)],
                                       lambda position, outcome: told.append(position))
        finally:
            adapter.close()
        assert [o.status for o in outcomes] == ["delivered"] * 3 and sorted(told) == [0, 1, 2]
        assert [o.remote_id for o in outcomes] == ["m-1", "m-2", "m-3"]
        assert {o.enhanced for o in outcomes} == {"SUCCESSFUL"}
        carried = gateway.wait_sent(4)  # the 300-character text goes as two parts
        bodies = [text for _sender, _receiver, text in carried]
        assert len(carried) == 4 and "Hello" in bodies and "Grüße ’quoted’" in bodies
        assert all(sender == "+15550100" for sender, _, _ in carried)
        deadline = time.monotonic() + 10
        while {(r["message"], r["status"]) for r in got} < {("m-1", "1"), ("m-2", "1"), ("m-3", "1")} \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {("m-1", "1"), ("m-2", "1"), ("m-3", "1")} <= {(r["message"], r["status"]) for r in got}


def test_refusals_are_permanent_or_transient(tmp_path, reports):
    receiver, _got = reports
    with kannel.running(tmp_path / "kannel", f"{receiver}/mo?text=%a") as gateway:
        wrong_login = KannelGateway(gateway.sendsms_url.replace(kannel.PASSWORD, "wrong"), lambda _id: receiver)
        empty_number = KannelGateway(gateway.sendsms_url, lambda _id: receiver)
        try:
            [login] = wrong_login.deliver([_text(1)])
            [number] = empty_number.deliver([_text(2, destination="")])
        finally:
            wrong_login.close()
            empty_number.close()
    assert (login.status, login.code) == ("transient", 403)  # Pinfold's configuration, not the text: kept
    assert (number.status, number.code, number.enhanced) == ("permanent", 400, "INVALID")
    down = KannelGateway(f"http://u:p@127.0.0.1:{free_port()}/cgi-bin/sendsms", lambda _id: receiver)
    try:
        [unanswered] = down.deliver([_text(3)])
    finally:
        down.close()
    assert (unanswered.status, unanswered.enhanced) == ("transient", "CARRIER_UNREACHABLE")


def test_no_more_texts_go_once_the_pipeline_says_stop(tmp_path, reports):
    receiver, _got = reports
    with kannel.running(tmp_path / "kannel", f"{receiver}/mo?text=%a") as gateway:
        adapter = KannelGateway(gateway.sendsms_url + "?connections=1", lambda _id: receiver)
        try:
            outcomes = adapter.deliver([_text(n) for n in range(10)], lambda position, _outcome: position < 2)
        finally:
            adapter.close()
    assert len(outcomes) == 3  # the one that said stop was the third; none after it was sent


def test_the_gateway_url_is_checked_and_never_shown():
    with pytest.raises(ValueError):
        KannelGateway("smtp://host", lambda _id: "")
    with pytest.raises(ValueError):
        KannelGateway("http://u:p@host/cgi-bin/sendsms?connections=0", lambda _id: "")
    with pytest.raises(ValueError):
        KannelGateway("http://u:p@host/cgi-bin/sendsms?reports=sometimes", lambda _id: "")
    adapter = KannelGateway("http://u:secret-password@host:13013/cgi-bin/sendsms?smsc=a", lambda _id: "")
    try:
        assert "secret-password" not in repr(adapter) and adapter.fixed["smsc"] == "a"
    finally:
        adapter.close()


def test_with_reports_off_no_report_is_asked_for(tmp_path, reports):
    receiver, got = reports
    with kannel.running(tmp_path / "kannel", f"{receiver}/mo?text=%a") as gateway:
        adapter = KannelGateway(gateway.sendsms_url + "?reports=off", lambda mid: f"{receiver}/dlr?m={mid}")
        try:
            [outcome] = adapter.deliver([_text(1)])
        finally:
            adapter.close()
        gateway.wait_sent(1)
        time.sleep(1)
    assert (outcome.status, outcome.enhanced) == ("delivered", "SUCCESSFUL") and got == []

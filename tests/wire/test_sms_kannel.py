"""SMS end to end through a real Kannel (bearerbox, smsbox, fakesmsc on loopback) with boto3 against
`pinfold serve`: a text reaches the carrier, its delivery report comes back and the message is
delivered in the event lake; a STOP from the handset opts it out and is answered, and the next text
to it is refused as AWS refuses it; HELP is answered; a forged report or inbound call is refused."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import httpx
import pytest
from botocore.exceptions import ClientError

from tests import kannel
from tests.conftest import Server, free_port, make_client, onboard, unavailable

HANDSET = "+14255550123"


@pytest.fixture
def sms_setup(tmp_path, database_url, moto_s3):
    """A server sending through Kannel, and the Kannel whose inbound messages go to that server."""
    if not kannel.installed():
        unavailable("Kannel (Debian packages kannel, kannel-extras) is not installed")
    ports = {name: free_port() for name in ("admin", "smsbox", "smsc", "sendsms")}
    gateway = f"http://{kannel.USER}:{kannel.PASSWORD}@127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms"
    (tmp_path / "data").mkdir()
    server = Server(tmp_path / "data", database_url, moto_s3, PINFOLD_SMS_GATEWAY=gateway,
                    PINFOLD_LAKE_ROLL_SECONDS="1")
    carrier = None
    try:
        config = server.cli("sms", "gateway-config").stdout
        inbound_url = config.split('get-url = "', 1)[1].split('"', 1)[0]
        (tmp_path / "kannel").mkdir()
        carrier = kannel.Kannel(tmp_path / "kannel", ports, inbound_url)
        carrier.start()
        yield server, carrier
    finally:
        if carrier is not None:
            carrier.stop()
        server.stop()


def _lake(data_dir: Path) -> list[tuple]:
    pattern = data_dir / "lake" / "events" / "**" / "*.parquet"
    try:
        return duckdb.sql(f"SELECT event_type, attributes['message_id'], attributes['record_status'] "
                          f"FROM read_parquet('{pattern}')").fetchall()
    except duckdb.IOException:
        return []


def test_send_report_stop_and_refusal_through_kannel(sms_setup):
    server, carrier = sms_setup
    placed = onboard(server, "ma-mp")
    account = placed["tenant"]["account_id"]
    sms = make_client(server, placed["credentials"], "pinpoint-sms-voice-v2")
    server.cli("accounts", "sms-production", account, "--max-spend", "100")
    number = sms.request_phone_number(IsoCountryCode="US", MessageType="TRANSACTIONAL", NumberCapabilities=["SMS"],
                                      NumberType="LONG_CODE")["PhoneNumber"]

    message_id = sms.send_text_message(DestinationPhoneNumber=HANDSET, OriginationIdentity=number,
                                       MessageBody="Your code is 424242")["MessageId"]
    assert carrier.wait_sent(1)[0] == (number, HANDSET, "Your code is 424242")
    deadline, rows = time.monotonic() + 30, []
    while time.monotonic() < deadline and ("_SMS.SUCCESS", message_id, "DELIVERED") not in rows:
        time.sleep(0.5)
        rows = _lake(Path(server.env["PINFOLD_DATA_DIR"]))
    assert ("_SMS.BUFFERED", message_id, "SUCCESSFUL") in rows  # the gateway took it
    assert ("_SMS.SUCCESS", message_id, "DELIVERED") in rows  # the report said it reached the handset

    carrier.inbound(HANDSET, number, "STOP please")
    sent = carrier.wait_sent(2)  # the STOP is answered from the same number
    assert sent[1][:2] == (number, HANDSET) and "opted out" in sent[1][2].lower()
    opted = sms.describe_opted_out_numbers(OptOutListName="Default")["OptedOutNumbers"]
    assert [(entry["OptedOutNumber"], entry["EndUserOptedOut"]) for entry in opted] == [(HANDSET, True)]
    with pytest.raises(ClientError) as refused:
        sms.send_text_message(DestinationPhoneNumber=HANDSET, OriginationIdentity=number, MessageBody="again")
    assert (refused.value.response["Error"]["Code"], refused.value.response["Reason"]) == \
        ("ConflictException", "DESTINATION_PHONE_NUMBER_OPTED_OUT")

    carrier.inbound("+14255550199", number, "help")
    help_answer = carrier.wait_sent(3)[2]
    assert help_answer[:2] == (number, "+14255550199") and help_answer[2]

    forged = httpx.get(f"{server.url}/sms/kannel/report",
                       params={"message": message_id, "token": "0" * 32, "status": "2"})
    assert forged.status_code == 403
    stranger = httpx.get(f"{server.url}/sms/kannel/inbound",
                         params={"key": "guess", "from": "+14255550100", "to": number, "text": "STOP"})
    assert stranger.status_code == 403
    assert len(sms.describe_opted_out_numbers(OptOutListName="Default")["OptedOutNumbers"]) == 1

"""`pinfold worker` processes share the sending queue with each other: every message goes out once,
and SIGTERM stops a worker cleanly."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time

from pinfold.config import Settings
from pinfold.services import email_account, ses_send
from pinfold.services.context import Context
from pinfold.store import email_messages
from tests.service.helpers import account_caller, onboard, operator
from tests.service.test_email_sending import SIMULATOR, _simple, _verified_sender


def test_two_workers_deliver_every_message_exactly_once(tmp_path, database_url):
    data_dir = tmp_path / "data"
    ctx = Context.open(Settings(data_dir=data_dir, database_url=database_url))
    try:
        admin = operator(ctx)
        tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
        caller = account_caller(ctx, admin, tenant["account_id"])
        _verified_sender(ctx, admin, caller)
        email_account.set_production(ctx, admin, caller.account_id, max_rate=10_000)
        sent = {ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}"]))["MessageId"]
                for n in range(300)}
        env = {**os.environ, "PINFOLD_DATA_DIR": str(data_dir), "PINFOLD_DATABASE_URL": database_url,
               "PINFOLD_EMAIL_BATCH": "20", "PINFOLD_LOG_LEVEL": "warning"}
        workers = [subprocess.Popen([sys.executable, "-m", "pinfold", "worker"], env=env, stderr=subprocess.PIPE)
                   for _ in range(2)]
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with ctx.db.read() as conn:
                    if email_messages.waiting(conn) == 0:
                        break
                time.sleep(0.2)
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
            codes = [process.wait(30) for process in workers]
        assert codes == [0, 0], [process.stderr.read().decode()[-2000:] for process in workers]
        with ctx.db.read() as conn:
            assert email_messages.counts(conn) == {"delivered": 300}
        delivered = [email.message_from_bytes(path.read_bytes())["X-Pinfold-Message-Id"]
                     for path in (data_dir / "mailbox").rglob("*.eml")]
        assert len(delivered) == 300 and set(delivered) == sent  # each once, none twice
    finally:
        ctx.close()

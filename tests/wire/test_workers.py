"""`pinfold worker` processes share the sending queue with each other: every message goes out once,
and SIGTERM stops a worker cleanly."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

from pinfold.config import Settings
from pinfold.context import Context
from pinfold.email import account as email_account
from pinfold.email import send as ses_send
from pinfold.email.store import messages as email_messages
from tests.service.helpers import account_caller, onboard, operator
from tests.service.test_email_sending import SIMULATOR, _simple, _verified_sender


def _sending_account(ctx, **limits):
    """An ma-mp tenant's account in production with these limits and a verified sender; its caller."""
    admin = operator(ctx)
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    caller = account_caller(ctx, admin, tenant["account_id"])
    _verified_sender(ctx, admin, caller)
    email_account.set_production(ctx, admin, caller.account_id, **limits)
    return caller


def _stopped(process: subprocess.Popen) -> int | None:
    """Its exit code once it has stopped after SIGTERM; None (and killed, so no test leaves it
    running) if it has not within 30 s."""
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        return None


def test_two_workers_deliver_every_message_exactly_once(tmp_path, database_url):
    data_dir = tmp_path / "data"
    ctx = Context.open(Settings(data_dir=data_dir, database_url=database_url))
    try:
        caller = _sending_account(ctx, max_rate=10_000)
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
            codes = [_stopped(process) for process in workers]
        assert codes == [0, 0], [process.stderr.read().decode()[-2000:] for process in workers]
        with ctx.db.read() as conn:
            assert email_messages.counts(conn) == {"delivered": 300}
        delivered = [email.message_from_bytes(path.read_bytes())["X-Pinfold-Message-Id"]
                     for path in (data_dir / "mailbox").rglob("*.eml")]
        assert len(delivered) == 300 and set(delivered) == sent  # each once, none twice
    finally:
        ctx.close()


LEASE = 8  # PINFOLD_SENDING_LEASE_SECONDS for the takeover test (20 by default)


def test_a_surviving_worker_takes_over_a_killed_ones_messages_within_30_seconds(tmp_path, database_url):
    """Two workers send; the busy one is killed with SIGKILL mid-pass. The other, whose own claims
    nobody took while it lived, finishes the dead one's within 30 s; nothing is lost, and the mailbox
    (which keeps every delivery) shows at most one group of outcomes sent twice."""
    import sqlalchemy as sa

    from pinfold.db.tables import email_messages as messages_table
    from pinfold.email import accept as email_sending
    from pinfold.sending.worker import GROUP_SIZE

    data_dir = tmp_path / "data"
    ctx = Context.open(Settings(data_dir=data_dir, database_url=database_url))
    try:
        caller = _sending_account(ctx, max_24h=100_000, max_rate=100_000)
        with ctx.db.write() as conn:
            sender = email_sending.resolve_sender(conn, caller, account_id=caller.account_id, region=caller.region,
                                                  from_header="news@example.com", configuration_set=None,
                                                  tenant_name=None)
            definition = email_sending.definition(sender, subject="Hi {{n}}", text="Hello {{n}}")
            sent = set(email_sending.enqueue(conn, sender, definition, [
                {"to": [f"r{n}@example.org"], "data": {"n": str(n)}} for n in range(4000)]))
        env = {**os.environ, "PINFOLD_DATA_DIR": str(data_dir), "PINFOLD_DATABASE_URL": database_url,
               "PINFOLD_EMAIL_BATCH": "500", "PINFOLD_LOG_LEVEL": "warning",
               "PINFOLD_SENDING_LEASE_SECONDS": str(LEASE)}
        mailbox = data_dir / "mailbox"

        def out() -> int:
            return sum(1 for _ in mailbox.rglob("*.eml"))

        def wait_out(count: int) -> None:
            deadline = time.monotonic() + 30
            while out() < count and time.monotonic() < deadline:
                time.sleep(0.02)

        # The first worker logs each claim (at debug), so it can be killed just after one, holding
        # messages; killed between passes, it would leave nothing to take over.
        workers = [subprocess.Popen([sys.executable, "-m", "pinfold", "worker"],
                                    env={**env, "PINFOLD_LOG_LEVEL": "debug"}, stderr=subprocess.PIPE, text=True)]
        claimed = threading.Event()

        def watch(stream) -> None:
            for line in stream:
                if " claimed " in line:
                    claimed.set()

        threading.Thread(target=watch, args=(workers[0].stderr,), daemon=True).start()
        try:
            wait_out(300)  # the first worker is busy, pass after pass
            workers.append(subprocess.Popen([sys.executable, "-m", "pinfold", "worker"], env=env,
                                            stderr=subprocess.PIPE, text=True))
            wait_out(1200)
            claimed.clear()
            assert claimed.wait(30), "the first worker claimed nothing more"
            killed_at = out()
            workers[0].kill()
            killed, killed_clock = time.monotonic(), time.time()
            # Longer than a heartbeat: the survivor's claims are renewed past the window below or
            # finished by now; only the dead one's still run out within a lease of the kill.
            time.sleep(LEASE / 4 + 1)
            with ctx.db.read() as conn:
                orphaned = conn.execute(sa.select(sa.func.count()).select_from(messages_table).where(
                    messages_table.c.status == "sending",
                    messages_table.c.due_at <= killed_clock + LEASE)).scalar_one()
            assert orphaned > 0  # killed mid-pass, holding messages someone must take over
            while time.monotonic() < killed + 40:
                with ctx.db.read() as conn:
                    if email_messages.waiting(conn) == 0:
                        break
                time.sleep(0.2)
            recovered = time.monotonic() - killed
        finally:
            workers[0].kill()
            workers[0].wait(10)
            for survivor in workers[1:]:
                survivor.send_signal(signal.SIGTERM)
            codes = [_stopped(survivor) for survivor in workers[1:]]
        survivor_log = workers[1].stderr.read()
        assert codes == [0], survivor_log[-2000:]
        assert "took over" in survivor_log and "whose worker's lease ran out" in survivor_log
        with ctx.db.read() as conn:
            assert email_messages.counts(conn) == {"delivered": 4000}
        copies = Counter(email.message_from_bytes(path.read_bytes())["X-Pinfold-Message-Id"]
                         for path in mailbox.rglob("*.eml"))
        duplicated = sum(n - 1 for n in copies.values())
        print(f"\nworker killed at {killed_at} delivered holding {orphaned}: lost {len(sent - set(copies))}, "
              f"duplicated {duplicated}, recovered {recovered:.1f} s after the kill")
        assert set(copies) == sent  # none lost
        assert duplicated <= GROUP_SIZE  # the mailbox answers at once: no connections in flight
        assert recovered <= 30
    finally:
        ctx.close()


def test_a_worker_refuses_services_it_does_not_know(tmp_path):
    env = {**os.environ, "PINFOLD_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "pinfold", "worker", "--services", "pump,mailing"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "name some of jobs, pump, campaigns, sending, campaign-sending" in result.stderr

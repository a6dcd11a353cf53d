"""Benchmark the SMTP relay adapter against Postfix's smtp-source, both sending into one smtp-sink.

Usage: .venv/bin/python benchmarks/smtp_adapter.py [--messages N] [--concurrency C] [--batch B]
Also measures, in the same run, the choices behind the adapter: the hand-assembled MIME builder
against the email package, Pinfold's DKIM signer against dkimpy, and smtplib as the SMTP client.
"""

from __future__ import annotations

import argparse
import os
import resource
import smtplib
import socket
import subprocess
import sys
import threading
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pinfold.email.adapters.base import OutgoingEmail  # noqa: E402
from pinfold.email.adapters.smtp import SmtpRelay  # noqa: E402
from pinfold.email.mime import build_message  # noqa: E402
from pinfold.email.rules import dkim  # noqa: E402

SINK, SOURCE = "/usr/sbin/smtp-sink", "/usr/sbin/smtp-source"
TARGET = 0.3
PARAGRAPH = "Hello {n}, this is line {i} of a newsletter paragraph padded out to about seventy chars.\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=4, help="smtp-source -s and SmtpRelay max_connections")
    parser.add_argument("--batch", type=int, default=1000, help="messages per SmtpRelay.deliver call")
    args = parser.parse_args()
    for tool in (SINK, SOURCE):
        if not os.path.exists(tool):
            sys.exit(f"{tool} is missing (install Postfix)")
    n, concurrency = args.messages, args.concurrency
    print(f"{n:,} messages of ~4 KB, concurrency {concurrency}, {os.cpu_count()} CPUs")

    build_us, messages = timed_per_message(lambda: make_messages(n))
    stdlib_us, _ = timed_per_message(lambda: [stdlib_message(i) for i in range(min(n, 500))], min(n, 500))
    print(f"build   pinfold mime {build_us:8.1f} us/msg   email.message {stdlib_us:8.1f} us/msg   "
          f"({stdlib_us / build_us:.0f}x)")
    sign_us, dkimpy_us = dkim_costs(messages[0].data)
    print(f"dkim    pinfold sign {sign_us:8.1f} us/msg   dkimpy        {dkimpy_us:8.1f} us/msg   "
          f"({dkimpy_us / sign_us:.0f}x)")

    with smtp_sink() as port:
        source_rate = smtp_source(port, n, concurrency, keep_connection=False)
        source_reuse_rate = smtp_source(port, n, concurrency, keep_connection=True)
        relay_rate, relay_cpu, opened = relay_run(port, messages, concurrency, args.batch)
        smtplib_rate, smtplib_cpu = smtplib_run(port, messages[:min(n, 10_000)], concurrency)

    print(f"smtp-source -s {concurrency} -m {n} -l 4096      {source_rate:9,.0f} msg/s   (a connection per message)")
    print(f"smtp-source -d (connection reuse)      {source_reuse_rate:9,.0f} msg/s")
    print(f"SmtpRelay (pipelining, pooled)         {relay_rate:9,.0f} msg/s   {relay_cpu:6.1f} us CPU/msg   "
          f"{opened} connections")
    print(f"smtplib, {concurrency} threads, reused connections {smtplib_rate:9,.0f} msg/s   "
          f"{smtplib_cpu:6.1f} us CPU/msg")
    ratio = relay_rate / source_rate
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(f"ratio SmtpRelay / smtp-source: {ratio:.2f}x (target >= {TARGET}x: {verdict}); "
          f"vs smtp-source -d: {relay_rate / source_reuse_rate:.2f}x")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def make_messages(n: int) -> list[OutgoingEmail]:
    body = "".join(PARAGRAPH.format(n="{name}", i=i) for i in range(50))
    messages = []
    for i in range(n):
        data = build_message(message_id=f"bench-{i}", mail_domain="bench.pinfold.test",
                             from_addr="Bench <bench@pinfold.test>", to=[f"user{i}@example.test"], cc=[],
                             reply_to=[], subject=f"Newsletter #{i}", html=None, text=body.replace("{name}", str(i)),
                             list_unsubscribe=(f"https://u.pinfold.test/{i}", "unsubscribe@pinfold.test"))
        messages.append(OutgoingEmail(f"bench-{i}", "bounces@pinfold.test", (f"user{i}@example.test",), data))
    return messages


def stdlib_message(i: int) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"], message["To"], message["Subject"] = "bench@pinfold.test", f"user{i}@example.test", "News"
    message.set_content("".join(PARAGRAPH.format(n=i, i=k) for k in range(50)))
    return message.as_bytes()


def timed_per_message(work, count: int | None = None):
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) / (count or len(result)) * 1e6, result


def dkim_costs(data: bytes) -> tuple[float, float]:
    import dkim as dkimpy

    private_pem, _ = dkim.generate_key()
    ours, _ = timed_per_message(lambda: [dkim.sign(data, domain="pinfold.test", selector="s", private_pem=private_pem)
                                         for _ in range(300)])
    theirs, _ = timed_per_message(lambda: [dkimpy.sign(data, b"s", b"pinfold.test", private_pem.encode())
                                           for _ in range(30)])
    return ours, theirs


class smtp_sink:
    """smtp-sink on a free loopback port for the duration of a `with` block."""

    def __enter__(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen([SINK, *user, f"127.0.0.1:{self.port}", "1024"])
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self.port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(10)


def smtp_source(port: int, n: int, concurrency: int, *, keep_connection: bool) -> float:
    args = [SOURCE, "-s", str(concurrency), "-m", str(n), "-l", "4096", *(["-d"] if keep_connection else []),
            f"127.0.0.1:{port}"]
    started = time.perf_counter()
    subprocess.run(args, check=True)
    return n / (time.perf_counter() - started)


def relay_run(port: int, messages: list[OutgoingEmail], concurrency: int, batch: int) -> tuple[float, float, int]:
    relay = SmtpRelay("bench", "127.0.0.1", port, max_connections=concurrency, messages_per_connection=1000)
    relay.deliver(messages[:concurrency])  # open the pool, as a running server would have
    cpu, started = time.process_time(), time.perf_counter()
    outcomes = [o for i in range(0, len(messages), batch) for o in relay.deliver(messages[i:i + batch])]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    relay.close()
    failed = [o for o in outcomes if o.status != "delivered"]
    if failed:
        raise RuntimeError(f"{len(failed)} messages not delivered, e.g. {failed[0]}")
    return len(messages) / elapsed, cpu / len(messages) * 1e6, relay.connections_opened


def smtplib_run(port: int, messages: list[OutgoingEmail], concurrency: int) -> tuple[float, float]:
    def send(share: list[OutgoingEmail]) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            for message in share:
                client.sendmail(message.sender, list(message.recipients), message.data)

    shares = [messages[k::concurrency] for k in range(concurrency)]
    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    cpu, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(messages) / elapsed, cpu / len(messages) * 1e6


if __name__ == "__main__":
    main()

"""A real Kannel on loopback for the SMS tests: bearerbox with a fake SMSC, `fakesmsc` connected to it
as the carrier, and smsbox serving the HTTP `sendsms` interface. Messages sent out are read from
fakesmsc's output; inbound messages are typed into its input (it reads them line by line, as
"<from> <to> text <words>") and reach whatever `mo_url` names through smsbox's `get-url`.

`make test` installs the Debian packages (`kannel`, `kannel-extras`); without them the tests skip, or
fail under CI=true.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_to_bytes

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
USER, PASSWORD, ADMIN_PASSWORD = "pinfold", "kannel-test-password", "kannel-admin-password"
# fakesmsc prints what it gets as "<from> <to> text <text>", "<from> <to> ucs-2 <url-encoded UTF-16BE>"
# or, for a part of a longer message, "<from> <to> udh <url-encoded header> data <part>".
_SENT = re.compile(r"Got message \d+: <(\S+) (\S+) (text|ucs-2|udh \S+ data) (.*)>$")


def installed() -> bool:
    return BEARERBOX.exists() and SMSBOX.exists() and FAKESMSC.exists()


@contextmanager
def running(folder: Path, mo_url: str) -> Iterator[Kannel]:
    """A started Kannel in `folder` whose inbound messages go to `mo_url`; stopped afterwards. Skips
    without the packages (fails under CI=true)."""
    from tests.conftest import free_port, unavailable

    if not installed():
        unavailable("Kannel (Debian packages kannel, kannel-extras) is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    kannel = Kannel(folder, {name: free_port() for name in ("admin", "smsbox", "smsc", "sendsms")}, mo_url)
    try:
        yield kannel.start()
    finally:
        kannel.stop()


@dataclass
class Kannel:
    """One running Kannel; `start()` returns once sendsms answers and the fake SMSC is online."""

    folder: Path
    ports: dict[str, int]  # admin, smsbox, smsc, sendsms
    mo_url: str  # smsbox's get-url for inbound messages, with Kannel's escapes (%p, %P, %a)
    processes: list = field(default_factory=list)
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, text) of each part carried

    @property
    def sendsms_url(self) -> str:
        return f"http://{USER}:{PASSWORD}@127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms"

    def start(self) -> Kannel:
        config = self.folder / "kannel.conf"
        config.write_text(self._config())
        self._run([str(BEARERBOX), "-v", "1", str(config)], "bearerbox")
        self._wait(lambda: self._status() is not None, "bearerbox's admin port")
        carrier = self._run([str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.ports["smsc"]), "-i", "0.01"],
                            "fakesmsc", carrier=True)
        threading.Thread(target=self._read_carrier, args=(carrier,), daemon=True).start()
        self._run([str(SMSBOX), "-v", "1", str(config)], "smsbox")
        self._wait(lambda: "online" in (self._status() or ""), "the fake SMSC to come online")
        self._wait(self._sendsms_answers, "smsbox's sendsms port")
        return self

    def inbound(self, sender: str, receiver: str, text: str) -> None:
        """A message from a handset (`sender`) to one of our numbers, as the carrier delivers it."""
        carrier = self.processes[1]
        carrier.stdin.write(f"{sender} {receiver} text {text}\n")
        carrier.stdin.flush()

    def wait_sent(self, count: int, timeout: float = 20) -> list[tuple[str, str, str]]:
        self._wait(lambda: len(self.sent) >= count, f"{count} message(s) at the carrier", timeout)
        return list(self.sent)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    def _config(self) -> str:
        log = self.folder
        return f"""
group = core
admin-port = {self.ports['admin']}
admin-password = {ADMIN_PASSWORD}
smsbox-port = {self.ports['smsbox']}
box-allow-ip = "127.0.0.1"
dlr-storage = internal
log-file = "{log}/bearerbox.log"
log-level = 1

group = smsc
smsc = fake
smsc-id = fake1
port = {self.ports['smsc']}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.ports['smsbox']}
sendsms-port = {self.ports['sendsms']}
log-file = "{log}/smsbox.log"
log-level = 1

group = sendsms-user
username = {USER}
password = {PASSWORD}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
get-url = "{self.mo_url}"
max-messages = 0
"""

    def _run(self, command: list[str], name: str, *, carrier: bool = False) -> subprocess.Popen:
        """Start one process; the carrier's output is read line by line, the others' go to a file."""
        output = subprocess.PIPE if carrier else open(self.folder / f"{name}.out", "w")
        process = subprocess.Popen(command, stdin=subprocess.PIPE if carrier else subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, text=carrier)
        self.processes.append(process)
        return process

    def _read_carrier(self, carrier: subprocess.Popen) -> None:
        with open(self.folder / "fakesmsc.out", "w") as copy:
            for line in carrier.stdout:
                copy.write(line)
                copy.flush()
                found = _SENT.search(line.rstrip("\n"))
                if found:
                    sender, receiver, kind, payload = found.groups()
                    if kind == "ucs-2":
                        payload = unquote_to_bytes(payload.replace("+", "%20")).decode("utf-16-be")
                    self.sent.append((sender, receiver, payload))

    def _status(self) -> str | None:
        url = f"http://127.0.0.1:{self.ports['admin']}/status.txt?password={ADMIN_PASSWORD}"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read().decode()
        except OSError:
            return None

    def _sendsms_answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms", timeout=2)
        except urllib.error.HTTPError:
            return True  # it answered (403 without credentials): it is serving
        except OSError:
            return False
        return True

    def _wait(self, ready, what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None and process.args[0] != str(FAKESMSC):
                    raise RuntimeError(f"{process.args[0]} exited; see {self.folder}")
            if ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"waited {timeout} s for {what}; logs in {self.folder}")

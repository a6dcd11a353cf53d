"""Sample the server with py-spy while a phase runs, and name its hot spots by file:line."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_RATE = 200  # samples per second
# Leaf frames of threads parked waiting for work; py-spy's idle detection lets some through.
_PARKED = ("(threading.py:",)


def py_spy_path() -> str:
    """The py-spy next to this interpreter, else on PATH; it is not a Pinfold dependency."""
    local = Path(sys.executable).parent / "py-spy"
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


@contextmanager
def sampling(pid: int, output: Path) -> Iterator[None]:
    """Record `pid`'s stacks (py-spy's collapsed "raw" format) to `output` while the block runs."""
    command = [py_spy_path(), "record", "--pid", str(pid), "--format", "raw", "--rate", str(_RATE),
               "--output", str(output)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # py-spy needs a moment to attach before the measured calls start
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        _, errors = spy.communicate(timeout=60)
        if not output.exists():
            print(f"[bench] py-spy wrote no profile: {errors.strip()}", file=sys.stderr)


def _tally(output: Path) -> tuple[Counter, Counter, int]:
    """Samples per frame: where the sample was taken (self), and anywhere on the stack (inclusive)."""
    own, anywhere, total = Counter(), Counter(), 0
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, samples = stack.split(";"), int(count)
        if any(mark in frames[-1] for mark in _PARKED):
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            anywhere[frame] += samples
    return own, anywhere, total


def hot_spots(output: Path, top: int = 8) -> str:
    """The top frames by self samples, then the Pinfold frames by inclusive samples."""
    if not output.exists():
        return "(no profile)"
    own, anywhere, total = _tally(output)
    if not total:
        return "(profile is empty)"
    ours = [(f, n) for f, n in anywhere.most_common() if "pinfold/" in f and "site-packages" not in f]
    lines = [f"py-spy: {total} samples (parked worker threads left out); raw stacks in {output}",
             "  self (where the time is spent):"]
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("  inclusive, Pinfold frames (what it is spent on):")
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in ours[:top]]
    return "\n".join(lines)

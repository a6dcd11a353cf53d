"""Drive one operation from several client processes at once and time the measured calls.

Each client is its own process (so the client side is not bound by one GIL) with its own boto3
client and keep-alive connection. Every client runs its warm-up calls, waits at a barrier, then
runs its measured calls; the phase lasts from the first measured start to the last finish. The
parent waits at the same barrier so it can read the server's CPU clock when measuring begins.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.servers import Target

# Spawned, not forked: each client starts clean instead of inheriting the parent's boto3 state.
_CONTEXT = multiprocessing.get_context("spawn")
_PHASE_TIMEOUT = 900.0


@dataclass(frozen=True)
class Plan:
    """One client's share of a phase: the operation and the keyword arguments of each call."""

    operation: str
    warmup: list[dict]
    calls: list[dict]


@dataclass(frozen=True)
class Timing:
    calls: int
    seconds: float
    server_cpu_seconds: float
    client_cpu_seconds: float

    @property
    def server_cpu_ms_per_call(self) -> float:
        return 1000 * self.server_cpu_seconds / self.calls if self.calls else 0.0

    @property
    def client_cpu_ms_per_call(self) -> float:
        return 1000 * self.client_cpu_seconds / self.calls if self.calls else 0.0

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0


def run_phase(target: Target, plans: list[Plan], server_cpu: Callable[[], float]) -> Timing:
    """Run each plan in its own client process concurrently; raise if any call fails.

    `server_cpu` reads the server process's CPU seconds; it is sampled as the measured calls begin
    and after the last one ends, so warm-up work is not counted.
    """
    barrier = _CONTEXT.Barrier(len(plans) + 1)
    results = _CONTEXT.Queue()
    workers = [_CONTEXT.Process(target=_client, args=(target, plan, barrier, results), daemon=True)
               for plan in plans]
    for worker in workers:
        worker.start()
    try:
        cpu_before = _released(barrier, server_cpu)
        spans = _collect(results, len(workers))
        cpu_used = server_cpu() - cpu_before
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
    start = min(s for s, _, _ in spans)
    end = max(e for _, e, _ in spans)
    return Timing(calls=sum(len(p.calls) for p in plans), seconds=end - start,
                  server_cpu_seconds=cpu_used, client_cpu_seconds=sum(c for _, _, c in spans))


def _released(barrier, server_cpu: Callable[[], float]) -> float:
    """Wait with the clients; a broken barrier means a client failed, which _collect reports."""
    try:
        barrier.wait(timeout=_PHASE_TIMEOUT)
    except threading.BrokenBarrierError:
        pass
    return server_cpu()


def _collect(results, count: int) -> list[tuple[float, float, float]]:
    """Each client's (start, end, CPU seconds) once all have reported; raise if any failed."""
    spans, failures = [], []
    deadline = time.monotonic() + _PHASE_TIMEOUT
    while len(spans) + len(failures) < count:
        try:
            kind, value = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"phase timed out after {_PHASE_TIMEOUT:.0f}s") from None
        (spans if kind == "ok" else failures).append(value)
    if failures:
        # A broken barrier is only the echo of another client's failure; show the cause.
        causes = [f for f in failures if "BrokenBarrierError" not in f] or failures
        raise RuntimeError("a client failed:\n" + causes[0])
    return spans


def _client(target: Target, plan: Plan, barrier, results) -> None:
    """Client process body: warm up, wait for the others, then time the measured calls."""
    try:
        client = target.client()
        call = getattr(client, plan.operation)
        for kwargs in plan.warmup:
            call(**kwargs)
        barrier.wait(timeout=_PHASE_TIMEOUT)
        # CLOCK_MONOTONIC is system-wide on Linux, so spans from different processes compare.
        start, cpu = time.monotonic(), time.process_time()
        for kwargs in plan.calls:
            call(**kwargs)
        results.put(("ok", (start, time.monotonic(), time.process_time() - cpu)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the run
        barrier.abort()
        results.put(("error", traceback.format_exc()))

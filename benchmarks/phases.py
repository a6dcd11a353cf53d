"""The benchmark's phases, in order: endpoint writes and reads on Pinfold, then Pinfold vs moto."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import profiling, workloads
from benchmarks.load import Plan, Timing, run_phase
from benchmarks.servers import Server


@dataclass(frozen=True)
class Counts:
    """How many calls each phase makes, in total across clients; warm-ups are per client."""

    batches: int
    batch_warmup: int
    reads: int
    read_warmup: int
    compare_calls: int
    compare_warmup: int
    apps: int = 20


FULL = Counts(batches=400, batch_warmup=3, reads=4000, read_warmup=25, compare_calls=2000, compare_warmup=10)
QUICK = Counts(batches=20, batch_warmup=1, reads=200, read_warmup=5, compare_calls=100, compare_warmup=2)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass
class Runner:
    """Runs phases with a fixed client count; with `profile_prefix`, samples Pinfold under py-spy."""

    clients: int
    counts: Counts
    profile_prefix: Path | None = None
    profiles: dict[str, Path] = field(default_factory=dict)

    def run(self, server: Server, operation: str, plans: list[Plan]) -> Timing:
        log(f"{operation} on {server.name}: {sum(len(p.calls) for p in plans)} calls")
        with ExitStack() as stack:
            if self.profile_prefix and server.name == "pinfold":
                path = Path(f"{self.profile_prefix}-{operation}.txt")
                path.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(profiling.sampling(server.pid, path))
                self.profiles[operation] = path
            return run_phase(server.target, plans, server.cpu_seconds)

    def endpoints(self, pinfold: Server) -> tuple[Timing, Timing]:
        """Write endpoints in batches from every client, then read them back one at a time."""
        app = pinfold.target.client().create_app(CreateApplicationRequest={"Name": "bench-endpoints"})
        app_id = app["ApplicationResponse"]["Id"]
        c = self.counts
        writes_plan = workloads.endpoint_batches(app_id, self.clients, c.batches, c.batch_warmup)
        writes = self.run(pinfold, "UpdateEndpointsBatch", writes_plan)
        ids = workloads.written_ids(writes_plan)
        reads_plan = workloads.endpoint_reads(app_id, ids, self.clients, c.reads, c.read_warmup)
        return writes, self.run(pinfold, "GetEndpoint", reads_plan)

    def versus(self, servers: list[Server]) -> dict[str, dict[str, Timing]]:
        """GetApps, TagResource and CreateApp on each server: identical calls, identical app counts."""
        c, n = self.counts, self.counts.compare_calls
        arns = {s.name: workloads.top_up_apps(s.target.client(), c.apps) for s in servers}
        plans = {
            "GetApps": lambda s: workloads.app_listings(self.clients, n, c.compare_warmup, c.apps),
            "TagResource": lambda s: workloads.taggings(arns[s.name], self.clients, n, c.compare_warmup),
            # Last, because it changes how many apps each server holds.
            "CreateApp": lambda s: workloads.app_creations(self.clients, n, c.compare_warmup),
        }
        return {operation: {s.name: self.run(s, operation, plans_for(s)) for s in servers}
                for operation, plans_for in plans.items()}

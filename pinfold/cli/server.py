"""`pinfold serve`, `pinfold worker` and `pinfold api coverage`: running Pinfold and the AWS APIs it speaks.

`serve` and `worker` are root commands; `pinfold.cli.main` registers them.
"""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, print_result, settings_refused
from pinfold.config import Settings

api_app = typer.Typer(help="The AWS APIs Pinfold speaks.", no_args_is_help=True)


def serve(host: str = typer.Option(None, envvar="PINFOLD_HOST"), port: int = typer.Option(None, envvar="PINFOLD_PORT"),
          workers: int = typer.Option(1, envvar="PINFOLD_WORKERS", help="Server processes sharing the database"),
          data_dir: Path | None = DataDir) -> None:
    """Start the server (AWS APIs and the admin API on one port)."""
    from pinfold import bootstrap

    settings = Settings.from_env(data_dir=data_dir, host=host, port=port)
    with settings_refused():
        bootstrap.serve(settings, workers=workers)


def worker(data_dir: Path | None = DataDir,
           metrics_port: int = typer.Option(None, "--metrics-port", envvar="PINFOLD_WORKER_METRICS_PORT",
                                            help="Answer Prometheus scrapes on this port (/metrics)")) -> None:
    """Run background work without serving requests: sending, imports and exports, the event pump.

    Start as many as the database can feed, beside `pinfold serve`; SIGTERM or Ctrl-C stops one
    after its current pass. Only `serve` listens for bounce reports (PINFOLD_FEEDBACK_SMTP)."""
    import signal
    import threading

    from pinfold import bootstrap

    settings = Settings.from_env(data_dir=data_dir)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    with settings_refused():
        bootstrap.work(settings, stop.wait, metrics_port=metrics_port)


@api_app.command("coverage")
def coverage(as_json: bool = AsJson) -> None:
    """Per service: operations Pinfold implements out of those in the service model."""
    from pinfold.api.coverage import report

    print_result(report(), as_json, ("service", "implemented", "total", "percent"))

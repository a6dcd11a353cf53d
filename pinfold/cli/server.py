"""`pinfold serve`, `pinfold worker` and `pinfold api coverage`: running Pinfold and the AWS APIs it speaks.

`serve` and `worker` are root commands; `pinfold.cli.main` registers them.
"""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, open_context, print_result, read_settings

Migrate = typer.Option(False, "--migrate", help="Bring an older database schema up to this version first "
                                                "(else one behind is refused: see `pinfold db upgrade`)")
Services = typer.Option(None, "--services", help="The background work this process runs: comma-separated from "
                                                 "jobs, pump, campaigns, sending, campaign-sending; all or none "
                                                 "[PINFOLD_SERVICES]")
api_app = typer.Typer(help="The AWS APIs Pinfold speaks.", no_args_is_help=True)


def serve(host: str = typer.Option(None, help="Listen address [PINFOLD_HOST]"),
          port: int = typer.Option(None, help="Listen port [PINFOLD_PORT]"),
          workers: int = typer.Option(None, help="Server processes sharing the database [PINFOLD_WORKERS]"),
          services: str = Services, migrate: bool = Migrate, data_dir: Path | None = DataDir) -> None:
    """Start the server (AWS APIs and the admin API on one port) and, beside requests, the background
    work (all of it unless --services names some)."""
    from pinfold import bootstrap

    settings = read_settings(data_dir=data_dir, host=host, port=port, workers=workers, services=services)
    bootstrap.serve(settings, open_context(settings, migrate=migrate))


def worker(services: str = Services, migrate: bool = Migrate, data_dir: Path | None = DataDir,
           metrics_port: int = typer.Option(None, "--metrics-port",
                                            help="Answer Prometheus scrapes on this port (/metrics) "
                                                 "[PINFOLD_WORKER_METRICS_PORT]")) -> None:
    """Run background work without serving requests: sending, imports and exports, the event pump,
    the campaign scheduler (all of it unless --services names some).

    Start as many as the database can feed, beside `pinfold serve`; SIGTERM or Ctrl-C stops one
    after its current pass. Only `serve` listens for bounce reports (PINFOLD_FEEDBACK_SMTP)."""
    import signal
    import threading

    from pinfold import bootstrap

    settings = read_settings(data_dir=data_dir, worker_metrics_port=metrics_port, services=services)
    ctx = open_context(settings, migrate=migrate)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    bootstrap.work(ctx, stop.wait)


@api_app.command("coverage")
def coverage(as_json: bool = AsJson) -> None:
    """Per service: operations Pinfold implements out of those in the service model."""
    from pinfold.api.coverage import report

    print_result(report(), as_json, ("service", "implemented", "total", "percent"))

"""The composition root: the only place that wires Pinfold together.

It opens the Context, builds the ASGI application (the AWS gateway, the admin API and the tracking
edge on one port), and starts the background services with their settings: the job runner, the
event pump with its sinks, and email sending. `pinfold serve`, `pinfold worker` and the CLI's
commands start from here; feature packages never import it.
"""

from __future__ import annotations

import logging
import os
import time

import anyio
from prometheus_client import REGISTRY, start_http_server

from pinfold.api.admin import create_admin_app
from pinfold.api.gateway import AwsGateway
from pinfold.api.sms_gateway import sms_gateway_routes
from pinfold.api.tracking import tracking_routes
from pinfold.audience import exports, imports
from pinfold.audience.runner import JobRunner
from pinfold.audience.store import jobs as job_store
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.campaigns.triggers import CampaignTriggers
from pinfold.config import Settings
from pinfold.context import Context
from pinfold.core import logs, metrics, runtime
from pinfold.core.service import Service
from pinfold.core.sources import S3Settings
from pinfold.custom.delivery import CustomDelivery
from pinfold.custom.store import calls as custom_calls
from pinfold.email import feedback
from pinfold.email.delivery import EmailDelivery
from pinfold.email.event_destinations import SesDestinations
from pinfold.email.store import messages
from pinfold.events import store as events_store
from pinfold.events.pump import Pump
from pinfold.events.sinks.base import Always, Outlets
from pinfold.events.sinks.lake import Lake, LakeSink
from pinfold.events.sinks.streams import ProjectStreams
from pinfold.messaging import channels as channel_service
from pinfold.push.delivery import PushDelivery
from pinfold.push.store import messages as push_messages
from pinfold.reputation.tally import ReputationTally
from pinfold.sending import queue as sending_queue
from pinfold.sms import reports as sms_reports
from pinfold.sms.adapters.kannel import KannelGateway
from pinfold.sms.delivery import SmsDelivery
from pinfold.sms.event_destinations import SmsDestinations
from pinfold.sms.store import messages as sms_messages

log = logging.getLogger("pinfold")

# What runs each job type.
JOB_RUNNERS = {"IMPORT": imports.run, "EXPORT": exports.run}


# The background services a process runs, by name (what /ready reports on).
Background = dict[str, Service | EmailDelivery | SmsDelivery]


def create_app(ctx: Context, services: Background | None = None):
    """The server: AWS requests are everything that is not under /admin, /health, /ready, /metrics, /t
    (tracking) or /sms/kannel (the SMS gateway's callbacks).
    `services` are the background services this process runs, which /ready reports on."""
    gateway = AwsGateway(ctx)
    admin = create_admin_app(ctx, lambda: readiness(ctx, services))
    own_metrics = metrics.registry_with(database_readings(ctx))
    # Opens, clicks and one-click unsubscribes from sent mail (pinfold/api/tracking.py).
    tracking = tracking_routes(ctx.secrets.derive_key("tracking"),
                               lambda message_id, index: feedback.link_of(ctx, message_id, index),
                               lambda *seen: feedback.record_engagement(ctx, *seen))
    # Kannel's delivery reports and inbound messages (pinfold/api/sms_gateway.py).
    sms_gateway = sms_gateway_routes(sms_reports.REPORT_PATH, sms_reports.INBOUND_PATH,
                                     sms_reports.DeliveryReports(ctx).apply,
                                     lambda *message: sms_reports.inbound(ctx, *message))

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            await admin(scope, receive, send)  # lifespan and websockets
        elif scope["path"].startswith("/admin/") or scope["path"] in ("/health", "/ready"):
            await admin(scope, receive, send)
        elif scope["path"].startswith("/t/"):
            await tracking(scope, receive, send)
        elif scope["path"].startswith("/sms/kannel/"):
            await sms_gateway(scope, receive, send)
        elif scope["path"] == "/metrics":
            body = await anyio.to_thread.run_sync(metrics.exposition, own_metrics)  # the readings query the database
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", metrics.CONTENT_TYPE.encode()),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        else:
            await gateway(scope, receive, send)

    runtime.settle()
    return app


def app_from_env():
    """ASGI factory for server processes after the first: settings from PINFOLD_*, the database
    already opened (and checked) by `serve`."""
    settings = Settings.from_env()
    logs.setup(settings)
    return create_app(Context.open(settings, create=False, migrate=False))


def event_pump(ctx: Context) -> Pump:
    """The pump with every sink it feeds (one pump per database runs at a time, by lease): the lake,
    projects' event streams, SES configuration sets' event destinations, campaign triggers and the
    reputation tally."""
    settings, s3 = ctx.settings, S3Settings.of(ctx.settings)
    outlets = Outlets(settings.nats_url, s3)  # one NATS connection and one writer per location for all
    lake = LakeSink(Lake(settings.resolved_lake_url, s3), settings.lake_roll_rows, settings.lake_roll_seconds)
    reputation = [ReputationTally(ctx)] if settings.reputation_tracking else []
    return Pump(ctx, sources=[Always(lake), ProjectStreams(outlets, settings.firehose_location),
                              SesDestinations(ctx, outlets), SmsDestinations(outlets, settings.firehose_location),
                              CampaignTriggers(ctx), *reputation])


def email_delivery(ctx: Context, *, listen: bool = True) -> EmailDelivery:
    """Email sending: the relay adapters, the sending worker and (with `listen`) the bounce listener."""
    return EmailDelivery(ctx, listen=listen)


def sms_delivery(ctx: Context) -> SmsDelivery:
    """SMS sending through PINFOLD_SMS_GATEWAY (Kannel), or the built-in carrier simulator."""
    url = ctx.settings.sms_gateway
    adapter = KannelGateway(url, lambda message_id: sms_reports.report_url(ctx, message_id)) if url else None
    return SmsDelivery(ctx, adapter)


def push_delivery(ctx: Context) -> PushDelivery:
    """Push sending: the push simulator, or APNs and FCM with each project's credentials."""
    return PushDelivery(ctx, channel_service.stored)


def background(ctx: Context, *, feedback_listener: bool) -> Background:
    """The work that runs beside requests, started, as far as PINFOLD_SERVICES names it: imports and
    exports, the event pump and the campaign scheduler (one each per database, by lease), and email,
    SMS, push and custom-channel sending (workers share each queue; each message goes out once). Each
    channel has a worker per lane (the custom channel only the campaign lane's): transactional sends
    and campaign sends are claimed apart, so a campaign's backlog never delays a SendEmail or a text,
    and a process may run either lane alone (`sending`, `campaign-sending`): a campaign then cannot
    take the CPU a SendEmail needs either."""
    chosen = ctx.settings.background_services
    lanes = tuple(lane for lane, name in ((sending_queue.TRANSACTIONAL, "sending"),
                                          (sending_queue.CAMPAIGN, "campaign-sending")) if name in chosen)
    services: Background = {}
    if "jobs" in chosen:
        services["jobs"] = JobRunner(ctx, JOB_RUNNERS).start()
    if "pump" in chosen:
        services["pump"] = event_pump(ctx).start()
    if "campaigns" in chosen:
        services["campaigns"] = CampaignScheduler(ctx).start()
    if lanes:
        services["sending"] = email_delivery(ctx, listen=feedback_listener).start(lanes)
        services["sms"] = sms_delivery(ctx).start(lanes=lanes)
        services["push"] = push_delivery(ctx).start(lanes=lanes)
    if sending_queue.CAMPAIGN in lanes:  # only campaigns (and, later, journeys) hand the custom channel work
        services["custom"] = CustomDelivery(ctx).start(lanes=(sending_queue.CAMPAIGN,))
    return services


def database_readings(ctx: Context) -> metrics.Readings:
    """What /metrics reads from the database when scraped: the sending queue, each sink's outbox lag,
    and jobs by status."""
    def queue(conn):
        now = time.time()
        readings = [(channel, sending_queue.LANE_NAMES[lane], depth, overdue)
                    for channel, store in (("email", messages), ("sms", sms_messages), ("push", push_messages),
                                           ("custom", custom_calls))
                    for lane, (depth, overdue) in store.queue_depths(conn, now).items()]
        return [((channel, lane), depth) for channel, lane, depth, _ in readings], \
            [((channel, lane), overdue) for channel, lane, _, overdue in readings]

    return metrics.Readings(ctx.db, [
        metrics.Reading("pinfold_sending_queue_messages", "Messages waiting to be sent or being sent",
                        ("channel", "lane"), lambda conn: queue(conn)[0]),
        metrics.Reading("pinfold_sending_queue_overdue_seconds",
                        "How long the most overdue waiting message has been due", ("channel", "lane"),
                        lambda conn: queue(conn)[1]),
        metrics.Reading("pinfold_outbox_lag_records", "Outbox records a sink has not delivered yet", ("sink",),
                        lambda conn: [((name,), lag) for name, lag in events_store.lags(conn)]),
        metrics.Reading("pinfold_jobs", "Import and export jobs by status", ("status",),
                        lambda conn: [((status,), count) for status, count in job_store.count_by_status(conn)]),
    ])


def readiness(ctx: Context, services: Background | None) -> tuple[bool, dict]:
    """What /ready answers: the database answers and its schema is at the code's newest migration,
    and every background service of this process runs (server processes after the first run none)."""
    checks: dict = {}
    try:
        current, head = ctx.db.schema()
        checks["database"] = "ok"
        checks["migrations"] = {"database": current, "code": head, "ok": current == head}
        ready = current == head
    except Exception as error:  # the database does not answer; its URL may hold a password: name the error only
        checks["database"] = f"unreachable ({type(error).__name__})"
        ready = False
    if services is None:
        checks["services"] = "none in this process"
    else:
        checks["services"] = {name: service.state() for name, service in services.items()}
        ready = ready and "stopped" not in checks["services"].values()
    return ready, {"status": "ready" if ready else "not ready", "checks": checks}


def serve(settings: Settings, ctx: Context) -> None:
    """Serve on settings.host:port until interrupted, with the background services in this process
    (and settings.workers server processes, which open the database as `ctx` left it)."""
    import uvicorn

    log.info("Pinfold serving on http://%s:%s (data in %s)", settings.host, settings.port, settings.data_dir)
    # uvicorn's lines go through Pinfold's handler (log_config=None); the access line is Pinfold's own.
    options = {"host": settings.host, "port": settings.port, "log_level": settings.log_level,
               "log_config": None, "access_log": False, "http": "httptools", "loop": "uvloop"}
    running = background(ctx, feedback_listener=True)
    try:
        if settings.workers <= 1:
            uvicorn.run(create_app(ctx, running), **options)
            return
        # The other processes read their settings as this one did; what came from flags, they read here.
        os.environ.update({"PINFOLD_DATA_DIR": str(settings.data_dir), "PINFOLD_HOST": settings.host,
                           "PINFOLD_PORT": str(settings.port)})
        uvicorn.run("pinfold.bootstrap:app_from_env", factory=True, workers=settings.workers, **options)
    finally:
        stop(running)


def work(ctx: Context, until) -> None:
    """Run the background services without serving requests until `until()` returns (a signal);
    with settings.worker_metrics_port, answer Prometheus scrapes on it."""
    settings = ctx.settings
    metrics_port = settings.worker_metrics_port
    log.info("Pinfold worker running (data in %s; services: %s)", settings.data_dir,
             ", ".join(settings.background_services) or "none")
    exporter = None
    if metrics_port is not None:
        REGISTRY.register(database_readings(ctx))  # once: this process has one worker
        exporter, _thread = start_http_server(metrics_port, addr=settings.host, registry=REGISTRY)
        log.info("metrics on http://%s:%s/metrics", settings.host, metrics_port)
    runtime.settle()
    running = background(ctx, feedback_listener=False)
    try:
        until()
    finally:
        stop(running)
        if exporter is not None:
            exporter.shutdown()
        ctx.close()


def stop(services: Background) -> None:
    for service in services.values():
        service.stop()

"""The ASGI application: admin API and health beside the AWS gateway, on one port."""

from __future__ import annotations

from pinfold.api.admin import create_admin_app
from pinfold.api.gateway import AwsGateway
from pinfold.api.tracking import tracking_routes
from pinfold.context import Context
from pinfold.core import runtime
from pinfold.email import feedback


def create_app(ctx: Context):
    """Compose the server; AWS requests are everything that is not under /admin or /health."""
    gateway = AwsGateway(ctx)
    admin = create_admin_app(ctx)
    # Opens, clicks and one-click unsubscribes from sent mail (pinfold/api/tracking.py).
    tracking = tracking_routes(ctx.secrets.derive_key("tracking"),
                               lambda message_id, index: feedback.link_of(ctx, message_id, index),
                               lambda *seen: feedback.record_engagement(ctx, *seen))

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            await admin(scope, receive, send)  # lifespan and websockets
        elif scope["path"].startswith("/admin/") or scope["path"] == "/health":
            await admin(scope, receive, send)
        elif scope["path"].startswith("/t/"):
            await tracking(scope, receive, send)
        else:
            await gateway(scope, receive, send)

    runtime.settle()
    return app


def app_from_env():
    """ASGI factory for worker processes: settings from PINFOLD_*, schema already migrated by `serve`."""
    from pinfold.config import Settings

    return create_app(Context.open(Settings.from_env(), migrate=False))

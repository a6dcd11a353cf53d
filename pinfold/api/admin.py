"""The native admin API (tenant registry, accounts, keys), with its OpenAPI document.

Requests are signed with SigV4 like the AWS APIs, using the signing name `pinfold`, so any AWS
signer (botocore, aws-sigv4 tooling, curl --aws-sigv4) can call it with Pinfold credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import anyio
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from pinfold import onboarding as tenants
from pinfold.api.admin_analytics import analytics_router
from pinfold.api.gateway import Request as WireRequest
from pinfold.api.gateway import authenticate
from pinfold.audience import segments
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, InvalidSignature, PinfoldError
from pinfold.core.ids import new_request_id
from pinfold.email import mailbox_reader
from pinfold.reputation import pauses
from pinfold.tenancy import organization

SIGNING_NAME = "pinfold"
STATUS = {"invalid_input": 400, "limit_exceeded": 400, "not_found": 404, "conflict": 409, "forbidden": 403,
          "auth_failure": 403, "payload_too_large": 413, "throttled": 429, "not_implemented": 501,
          "message_rejected": 400, "sending_paused": 403, "mail_from_not_verified": 400}
MAX_PAGE = 1000  # every admin listing is paged: at most this many items per response
MAX_PROJECT_CAP = 1_000_000  # far above any real need, far below the integer column's range
NEXT_TOKEN_HEADER = "X-Pinfold-Next-Token"
DOCS_ASSETS = "/admin/docs/assets"


class Tenant(BaseModel):
    tenant_id: str
    name: str
    model: Literal["sa-sp", "sa-mp", "ma-mp"]
    account_id: str
    region: str
    project_id: str
    attribute_key: str | None = None
    attribute_value: str | None = None
    status: Literal["active", "suspended", "offboarded"]
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


class OnboardRequest(BaseModel):
    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    model: Literal["sa-sp", "sa-mp", "ma-mp"]
    name: str | None = None
    region: str | None = None
    attribute_key: str | None = Field(default=None, description="sa-sp only; default TenantId")
    attribute_value: str | None = Field(default=None, description="sa-sp only; default the tenant id")
    metadata: dict[str, Any] = Field(default_factory=dict)
    sms_pool: bool = Field(default=False, description="an SMS pool and configuration set of the tenant's own "
                                                      "(sa-sp, sa-mp: in the shared account)")
    sms_country: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="sms_pool: the new number's country")
    sms_number_type: Literal["SIMULATOR", "LONG_CODE", "TOLL_FREE", "TEN_DLC"] = "SIMULATOR"
    sms_message_type: Literal["TRANSACTIONAL", "PROMOTIONAL"] = "TRANSACTIONAL"
    sms_number: str | None = Field(default=None, max_length=256,
                                   description="sms_pool: an existing number of the shared account, not a new one")
    app_id: str | None = Field(default=None, max_length=155,
                               description="the tenant's mobile app (bundle id or package name); in sa-sp it must be "
                                           "the shared project's")
    own_push_credentials: bool = Field(default=False, description="the tenant brings push credentials of its own "
                                                                  "(refused in sa-sp)")


class ReputationPolicy(BaseModel):
    policy: Literal["STANDARD", "STRICT", "NONE"]


class Credentials(BaseModel):
    principal_id: str
    scope: str
    account_id: str
    region: str
    aws_access_key_id: str
    aws_secret_access_key: str


class Onboarded(BaseModel):
    tenant: Tenant
    credentials: Credentials


class Offboarded(BaseModel):
    tenant: Tenant
    removed: dict[str, Any]


class ProjectCap(BaseModel):
    cap: int = Field(ge=1, le=MAX_PROJECT_CAP)


class KeyRequest(BaseModel):
    scope: Literal["organization", "account", "project"]
    account_id: str | None = None
    project_id: str | None = None
    name: str = "operator"


def refuse_encoded_path(raw_path: str) -> None:
    """The admin routes match the decoded path and no admin id needs escaping, so a path with any
    %-escape (%2F, %61dmin) would be routed by a path other than the one that was signed: refused."""
    if "%" in raw_path:
        raise InvalidSignature(f"The admin API's paths take no percent-encoded characters: '{raw_path[:200]}'.")


def refuse_nul(raw_path: str, query: str, body: bytes) -> None:
    """NUL is in no valid admin value, and PostgreSQL cannot store it: refuse it before any handler runs."""
    if "%00" in raw_path or "\x00" in query or "%00" in query or b"\x00" in body or b"\\u0000" in body:
        raise InvalidInput("The request contains a NUL character, which no admin value may hold")


def page(items: list, limit: int, next_token: str | None, response: Response) -> list:
    """One page of a listing; the token for the next page, if any, goes in the X-Pinfold-Next-Token header."""
    start = 0
    if next_token:
        if not next_token.isascii() or not next_token.isdigit() or len(next_token) > 9:
            raise InvalidInput(f"next_token {next_token[:40]!r} is not one this API issued", field="next_token")
        start = int(next_token)
    if start + limit < len(items):
        response.headers[NEXT_TOKEN_HEADER] = str(start + limit)
    return items[start:start + limit]


def add_docs(app: FastAPI) -> None:
    """Serve the Swagger UI at /admin/docs from the swagger-ui-bundle package, so it works offline."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/admin/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def _failure(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def add_error_shapes(app: FastAPI) -> None:
    """Every admin refusal, FastAPI's own included, has the one shape {"error": {"code", "message"}}."""

    @app.exception_handler(PinfoldError)
    async def _error(_request: Request, error: PinfoldError) -> JSONResponse:
        return _failure(error.code, error.message, STATUS.get(error.code, 500))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        # Name the field and the rule, never echo the value (it may be long, binary or secret).
        problems = [f"{'.'.join(str(part) for part in e.get('loc', ()) if part != 'body') or 'body'}: {e.get('msg')}"
                    for e in error.errors()[:5]]
        return _failure("invalid_input", "; ".join(problems) or "The request is not valid", 400)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "invalid_input")
        return _failure(code, str(error.detail), error.status_code)


def create_admin_app(ctx: Context, readiness: Callable[[], tuple[bool, dict]] | None = None) -> FastAPI:
    # FastAPI's own docs page loads its scripts from a CDN; add_docs serves them from Pinfold.
    app = FastAPI(title="Pinfold admin API", version="1", openapi_url="/admin/openapi.json",
                  docs_url=None, redoc_url=None)
    add_docs(app)

    async def caller(request: Request) -> Caller:
        raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        body = await request.body()
        refuse_nul(raw_path, request.url.query, body)
        refuse_encoded_path(raw_path)
        wire = WireRequest(request.method, raw_path, request.url.query,
                           {k.lower(): v for k, v in request.headers.items()}, body)
        return await anyio.to_thread.run_sync(
            lambda: authenticate(ctx, wire, new_request_id(), service=SIGNING_NAME)
        )

    add_error_shapes(app)

    @app.get("/health", include_in_schema=False)
    def health() -> dict:
        """The process is up (no other check: cheap enough to ask every second)."""
        return {"status": "ok"}

    @app.get("/ready", include_in_schema=False)
    def ready() -> JSONResponse:
        """200 when this process can serve: the database answers at the code's schema, its services run;
        503 otherwise, with what was checked."""
        ok, report = readiness() if readiness is not None else (True, {"status": "ready", "checks": {}})
        return JSONResponse(report, status_code=200 if ok else 503)

    @app.get("/admin/v1/tenants", response_model=list[Tenant])
    def list_tenants(response: Response, status: str | None = None, model: str | None = None,
                     limit: int = Query(MAX_PAGE, ge=1, le=MAX_PAGE), next_token: str | None = None,
                     who: Caller = Depends(caller)):
        """Oldest first, `limit` at a time; pass the X-Pinfold-Next-Token header back as `next_token`."""
        return page(tenants.list_all(ctx, who, status=status, model=model), limit, next_token, response)

    @app.post("/admin/v1/tenants", response_model=Onboarded, status_code=201)
    def onboard(body: OnboardRequest, who: Caller = Depends(caller)):
        return tenants.onboard(ctx, who, **body.model_dump())

    @app.get("/admin/v1/tenants/{tenant_id}", response_model=Tenant)
    def show(tenant_id: str, who: Caller = Depends(caller)):
        return tenants.show(ctx, who, tenant_id)

    @app.post("/admin/v1/tenants/{tenant_id}/suspend", response_model=Tenant)
    def suspend(tenant_id: str, who: Caller = Depends(caller)):
        return tenants.set_status(ctx, who, tenant_id, "suspended")

    @app.post("/admin/v1/tenants/{tenant_id}/resume", response_model=Tenant)
    def resume(tenant_id: str, who: Caller = Depends(caller)):
        return tenants.set_status(ctx, who, tenant_id, "active")

    @app.post("/admin/v1/tenants/{tenant_id}/resume-sending")
    def resume_sending(tenant_id: str, who: Caller = Depends(caller)):
        """Let a tenant whose reputation paused its sending send again (recorded with who did it)."""
        return pauses.resume_tenant(ctx, who, tenant_id)

    @app.put("/admin/v1/tenants/{tenant_id}/reputation-policy")
    def set_reputation_policy(tenant_id: str, body: ReputationPolicy, who: Caller = Depends(caller)):
        return pauses.set_policy(ctx, who, tenant_id, body.policy)

    @app.get("/admin/v1/tenants/{tenant_id}/reputation-history")
    def reputation_history(tenant_id: str, who: Caller = Depends(caller)):
        """Findings, pauses and resumes of the tenant's email and SMS reputation, newest first."""
        return pauses.tenant_history(ctx, who, tenant_id)

    @app.post("/admin/v1/tenants/{tenant_id}/offboard", response_model=Offboarded)
    def offboard(tenant_id: str, who: Caller = Depends(caller)):
        return tenants.offboard(ctx, who, tenant_id)

    @app.get("/admin/v1/accounts")
    def list_accounts(response: Response, limit: int = Query(MAX_PAGE, ge=1, le=MAX_PAGE),
                      next_token: str | None = None, who: Caller = Depends(caller)) -> list[dict]:
        """Oldest first, `limit` at a time; pass the X-Pinfold-Next-Token header back as `next_token`."""
        return page(organization.list_accounts(ctx, who), limit, next_token, response)

    @app.put("/admin/v1/accounts/{account_id}/project-cap")
    def set_project_cap(account_id: str, body: ProjectCap, who: Caller = Depends(caller)) -> dict:
        return organization.set_project_cap(ctx, who, account_id, body.cap)

    @app.get("/admin/v1/projects/{project_id}/segments/{segment_id}/size")
    def segment_size(project_id: str, segment_id: str, version: int | None = Query(None, ge=1, le=2**31 - 1),
                     tenant: str | None = None, who: Caller = Depends(caller)) -> dict:
        viewer = segments.operator_view(ctx, who, project_id, tenant)
        return {"size": segments.size(ctx, viewer, project_id, segment_id, version)}

    @app.get("/admin/v1/projects/{project_id}/segments/{segment_id}/preview")
    def segment_preview(project_id: str, segment_id: str, limit: int = Query(20, ge=1, le=MAX_PAGE),
                        tenant: str | None = None, who: Caller = Depends(caller)) -> dict:
        viewer = segments.operator_view(ctx, who, project_id, tenant)
        return {"endpoints": segments.preview(ctx, viewer, project_id, segment_id, limit)}

    @app.get("/admin/v1/mailbox")
    def list_mailbox(limit: int = Query(mailbox_reader.DEFAULT_LIMIT, ge=1, le=MAX_PAGE), next_token: str | None = None,
                     to: str | None = None, message_id: str | None = None, who: Caller = Depends(caller)) -> dict:
        """The mailbox simulator's mail, newest first, `limit` at a time; pass `next_token` back for the next page.
        Every tenant's mail is there: organization administrators only."""
        messages, token = mailbox_reader.list_for(ctx, who, to=to, message_id=message_id, limit=limit,
                                                  next_token=next_token)
        return {"messages": messages, "next_token": token}

    @app.get("/admin/v1/mailbox/{day}/{name}", response_class=Response,
             responses={200: {"content": {"message/rfc822": {}}}})
    def mailbox_message(day: str, name: str, who: Caller = Depends(caller)) -> Response:
        """One message as stored (its id from the listing); organization administrators only."""
        content = mailbox_reader.read_for(ctx, who, f"{day}/{name}")
        return Response(content, media_type="message/rfc822")

    @app.post("/admin/v1/access-keys", response_model=Credentials, status_code=201)
    def create_key(body: KeyRequest, who: Caller = Depends(caller)):
        return tenants.create_access_key(ctx, who, **body.model_dump())

    app.include_router(analytics_router(ctx, caller), prefix="/admin/v1")
    return app

"""Where import and export jobs may read and write: the one check, on resolved locations.

A tenant's credentials reach only the prefixes `PINFOLD_TENANT_STORAGE_PREFIXES` gives it. The URL
is decoded and resolved (dot segments, `%2e%2e`, symlinks) before it is compared, component by
component, and the job then uses the resolved URL, so the place checked is the place used. Jobs
check again when they run: a symlink planted after the request is caught there.
"""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core import sources
from pinfold.core.access import Caller
from pinfold.core.errors import Forbidden, InvalidInput


def authorize(ctx: Context, caller: Caller, url: str, *, field: str) -> str:
    """The resolved URL the caller may use, or ForbiddenException when it lies outside its prefixes.

    Operators' credentials are not confined. The refusal names the allowed prefixes as the setting
    spells them, with `{data_dir}` left unexpanded: a tenant never learns the server's own paths.
    """
    if not url.startswith(("s3://", "file://")):
        raise InvalidInput(f"{field} must be an s3:// or file:// URL", field=field)
    where = sources.locate(url)
    if caller.tenant is None:
        return where.url
    templates = [template.strip() for template in ctx.settings.tenant_storage_prefixes.split(",") if template.strip()]
    data_dir = str(ctx.settings.data_dir.resolve())
    for template in templates:
        allowed = sources.locate(template.format(tenant_id=caller.tenant_id, data_dir=data_dir))
        if where.within(allowed):
            return where.url
    shown = ", ".join(template.format(tenant_id=caller.tenant_id, data_dir="{data_dir}") for template in templates)
    raise Forbidden(f"Tenant {caller.tenant_id} may only use storage under: {shown or 'nowhere'}")

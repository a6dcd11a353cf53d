"""Message templates: one row per (account, region, name, type) and every version's document.

`get` is what the sending pipeline calls: a template version flattened for rendering.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import template_versions, templates

_TEMPLATE = sa.select(templates).where(
    templates.c.account_id == sa.bindparam("a"), templates.c.region == sa.bindparam("r"),
    templates.c.name == sa.bindparam("n"), templates.c.template_type == sa.bindparam("t"),
)
_VERSION = sa.select(template_versions).where(template_versions.c.template_id == sa.bindparam("id"),
                                              template_versions.c.version == sa.bindparam("v"))
# Email members under the names the pipeline renders by.
_EMAIL_PARTS = {"Subject": "subject", "HtmlPart": "html", "TextPart": "text", "Headers": "headers"}


def find(conn: Connection, account_id: str, region: str, name: str, template_type: str) -> dict | None:
    """The template row (versions, tenant, dates) or None."""
    params = {"a": account_id, "r": region, "n": name, "t": template_type}
    row = conn.execute(_TEMPLATE, params).mappings().first()
    return dict(row) if row else None


def get_version(conn: Connection, template_id: str, version: int) -> dict | None:
    row = conn.execute(_VERSION, {"id": template_id, "v": version}).mappings().first()
    return dict(row) if row else None


def get(conn: Connection, account_id: str, region: str, name: str, template_type: str,
        version: int | None = None) -> dict | None:
    """A version ready to render (the active one when `version` is None), or None when either is missing.

    Keys: name, template_type, version, tenant_id, document, default_substitutions (a dict), and for
    EMAIL also subject, html, text and headers (None where the template leaves them out).
    """
    template = find(conn, account_id, region, name, template_type)
    if template is None:
        return None
    found = get_version(conn, template["id"], version if version is not None else template["active_version"])
    if found is None:
        return None
    document = found["document"]
    rendered = {"name": name, "template_type": template_type, "version": found["version"],
                "tenant_id": template["tenant_id"], "document": document,
                "default_substitutions": orjson.loads(document.get("DefaultSubstitutions") or "{}")}
    if template_type == "EMAIL":
        rendered.update({key: document.get(member) for member, key in _EMAIL_PARTS.items()})
    return rendered


def insert(conn: Connection, template: dict, document: dict) -> None:
    """A new template with its first version."""
    conn.execute(templates.insert(), template)
    add_version(conn, template["id"], 1, document, template["created_at"])


def add_version(conn: Connection, template_id: str, version: int, document: dict, at: str) -> None:
    conn.execute(template_versions.insert(), {"template_id": template_id, "version": version, "document": document,
                                              "created_at": at, "modified_at": at})


def overwrite_version(conn: Connection, template_id: str, version: int, document: dict, at: str) -> None:
    conn.execute(template_versions.update()
                 .where(template_versions.c.template_id == template_id, template_versions.c.version == version)
                 .values(document=document, modified_at=at))


def update(conn: Connection, template_id: str, **values) -> None:
    """Change the template row (active_version, latest_version, last_assigned, modified_at)."""
    conn.execute(templates.update().where(templates.c.id == template_id).values(**values))


def delete_version(conn: Connection, template_id: str, version: int) -> int | None:
    """Remove one version; returns the highest version left (None when none is)."""
    conn.execute(template_versions.delete().where(template_versions.c.template_id == template_id,
                                                  template_versions.c.version == version))
    query = sa.select(sa.func.max(template_versions.c.version)).where(template_versions.c.template_id == template_id)
    return conn.execute(query).scalar()


def delete(conn: Connection, template_id: str) -> None:
    conn.execute(template_versions.delete().where(template_versions.c.template_id == template_id))
    conn.execute(templates.delete().where(templates.c.id == template_id))


def count(conn: Connection, account_id: str, region: str) -> int:
    query = sa.select(sa.func.count()).where(templates.c.account_id == account_id, templates.c.region == region)
    return conn.execute(query).scalar_one()


def count_versions(conn: Connection, template_id: str) -> int:
    query = sa.select(sa.func.count()).where(template_versions.c.template_id == template_id)
    return conn.execute(query).scalar_one()


def list_page(conn: Connection, account_id: str, region: str, *, visible_to: str | None, prefix: str | None,
              template_type: str | None, after: tuple[str, str] | None, limit: int) -> list[dict]:
    """A page of templates by (name, type) with their active version's document as `document`.

    `visible_to` confines the page to the operator's templates plus that tenant's.
    """
    query = (sa.select(templates, template_versions.c.document)
             .join(template_versions, sa.and_(template_versions.c.template_id == templates.c.id,
                                              template_versions.c.version == templates.c.active_version))
             .where(templates.c.account_id == account_id, templates.c.region == region))
    if visible_to is not None:
        query = query.where(sa.or_(templates.c.tenant_id.is_(None), templates.c.tenant_id == visible_to))
    if prefix:
        # substr, not LIKE: SQLite's LIKE ignores case, and template names are case sensitive.
        query = query.where(sa.func.substr(templates.c.name, 1, len(prefix)) == prefix)
    if template_type is not None:
        query = query.where(templates.c.template_type == template_type)
    if after is not None:
        query = query.where(sa.tuple_(templates.c.name, templates.c.template_type) > sa.tuple_(*after))
    query = query.order_by(templates.c.name, templates.c.template_type).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def versions_page(conn: Connection, template_id: str, *, after: int, limit: int) -> list[dict]:
    """A page of one template's versions, oldest first, after version number `after`."""
    query = (sa.select(template_versions)
             .where(template_versions.c.template_id == template_id, template_versions.c.version > after)
             .order_by(template_versions.c.version).limit(limit))
    return [dict(row) for row in conn.execute(query).mappings()]


def delete_for_tenant(conn: Connection, account_id: str, tenant_id: str) -> list[dict]:
    """Remove every template a tenant made in an account; returns their rows (for their tags)."""
    query = sa.select(templates).where(templates.c.account_id == account_id, templates.c.tenant_id == tenant_id)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        delete(conn, row["id"])
    return rows

"""SES v2 email templates per account and region (apart from Pinpoint's versioned templates)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.arns import ses_template_arn
from pinfold.db.tables import email_templates
from pinfold.projects import store as tag_store


def arn(account_id: str, region: str, name: str) -> str:
    return ses_template_arn(region, account_id, name)


def _where(account_id: str, region: str, name: str):
    c = email_templates.c
    return sa.and_(c.account_id == account_id, c.region == region, c.name == name)


def insert(conn: Connection, row: dict) -> None:
    conn.execute(email_templates.insert().values(**row))


def row(conn: Connection, account_id: str, region: str, name: str) -> dict | None:
    found = conn.execute(sa.select(email_templates).where(_where(account_id, region, name))).mappings().first()
    return dict(found) if found else None


def update(conn: Connection, account_id: str, region: str, name: str, **values) -> None:
    conn.execute(email_templates.update().where(_where(account_id, region, name)).values(**values))


def delete(conn: Connection, account_id: str, region: str, name: str) -> None:
    conn.execute(email_templates.delete().where(_where(account_id, region, name)))


def count(conn: Connection, account_id: str, region: str) -> int:
    c = email_templates.c
    return conn.execute(sa.select(sa.func.count()).where(c.account_id == account_id, c.region == region)).scalar_one()


def page(conn: Connection, account_id: str, region: str, *, after: str | None, limit: int,
         only: set[str] | None = None) -> list[dict]:
    """Up to `limit` (name, created_at) rows in name order after `after`; `only` narrows to those names."""
    c = email_templates.c
    query = sa.select(c.name, c.created_at).where(c.account_id == account_id, c.region == region)
    if after is not None:
        query = query.where(c.name > after)
    if only is not None:
        query = query.where(c.name.in_(sorted(only)))
    return [dict(found) for found in conn.execute(query.order_by(c.name).limit(limit)).mappings()]


def get(conn: Connection, account_id: str, region: str, name: str) -> dict | None:
    """The template a send renders: name, arn, subject, html, text (None when absent) and tags."""
    found = row(conn, account_id, region, name)
    if found is None:
        return None
    resource = arn(account_id, region, name)
    return {"name": name, "arn": resource, "subject": found["subject"], "html": found["html"],
            "text": found["text"], "tags": tag_store.get_tags(conn, resource)}

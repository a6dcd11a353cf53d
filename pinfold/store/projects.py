"""Projects (Pinpoint "apps") and resource tags."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.store.database import upsert
from pinfold.store.tables import projects, tags


def insert_project(conn: Connection, **values) -> None:
    conn.execute(projects.insert().values(**values))


def get_project(conn: Connection, account_id: str, region: str, project_id: str) -> dict | None:
    query = sa.select(projects).where(
        projects.c.id == project_id, projects.c.account_id == account_id, projects.c.region == region
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def get_project_by_id(conn: Connection, project_id: str) -> dict | None:
    row = conn.execute(sa.select(projects).where(projects.c.id == project_id)).mappings().first()
    return dict(row) if row else None


def list_projects(conn: Connection, account_id: str, region: str, *, after: tuple[str, str] | None,
                  limit: int, only: str | None = None) -> list[dict]:
    """One page of an account's projects in a region, oldest first; `after` is the last (date, id)."""
    query = sa.select(projects).where(projects.c.account_id == account_id, projects.c.region == region)
    if only is not None:
        query = query.where(projects.c.id == only)
    if after is not None:
        query = query.where(sa.tuple_(projects.c.created_at, projects.c.id) > sa.tuple_(*after))
    query = query.order_by(projects.c.created_at, projects.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def count_projects(conn: Connection, account_id: str, region: str) -> int:
    query = sa.select(sa.func.count()).where(projects.c.account_id == account_id, projects.c.region == region)
    return conn.execute(query).scalar_one()


def list_account_project_ids(conn: Connection, account_id: str) -> list[str]:
    return list(conn.execute(sa.select(projects.c.id).where(projects.c.account_id == account_id)).scalars())


def update_settings(conn: Connection, project_id: str, settings: dict, modified_at: str) -> None:
    conn.execute(
        projects.update()
        .where(projects.c.id == project_id)
        .values(settings=settings, settings_modified_at=modified_at)
    )


def delete_project(conn: Connection, project_id: str) -> None:
    conn.execute(projects.delete().where(projects.c.id == project_id))


def get_tags(conn: Connection, resource_arn: str) -> dict[str, str]:
    rows = conn.execute(sa.select(tags.c.key, tags.c.value).where(tags.c.resource_arn == resource_arn))
    return {key: value for key, value in rows}


def put_tags(conn: Connection, resource_arn: str, values: dict[str, str]) -> None:
    rows = [{"resource_arn": resource_arn, "key": k, "value": v} for k, v in values.items()]
    upsert(conn, tags, rows, ["resource_arn", "key"])


def delete_tags(conn: Connection, resource_arn: str, keys: list[str] | None = None) -> None:
    """Remove the named tags, or every tag of the resource when `keys` is None."""
    statement = tags.delete().where(tags.c.resource_arn == resource_arn)
    if keys is not None:
        statement = statement.where(tags.c.key.in_(keys))
    conn.execute(statement)

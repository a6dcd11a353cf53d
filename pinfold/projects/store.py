"""Projects (Pinpoint "apps") and resource tags."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import projects, tags

_INSERT_PROJECTS = projects.insert()


def insert_project(conn: Connection, **values) -> None:
    conn.execute(_INSERT_PROJECTS, values)


_PROJECT = sa.select(projects).where(
    projects.c.id == sa.bindparam("id"),
    projects.c.account_id == sa.bindparam("account_id"),
    projects.c.region == sa.bindparam("region"),
)


def get_project(conn: Connection, account_id: str, region: str, project_id: str) -> dict | None:
    row = conn.execute(_PROJECT, {"id": project_id, "account_id": account_id, "region": region}).mappings().first()
    return dict(row) if row else None


def get_project_by_id(conn: Connection, project_id: str) -> dict | None:
    row = conn.execute(sa.select(projects).where(projects.c.id == project_id)).mappings().first()
    return dict(row) if row else None


def list_projects(conn: Connection, account_id: str, region: str, *, after: tuple[str, str] | None,
                  limit: int, only: str | None = None) -> list[dict]:
    """One page of an account's projects in a region, oldest first; `after` is the last (date, id)."""
    params = {"account_id": account_id, "region": region, "limit": limit}
    if after is not None:
        params.update(after_created=after[0], after_id=after[1])
    if only is not None:
        params["only"] = only
    statement = _page_statement(after is not None, only is not None)
    return [dict(row) for row in conn.execute(statement, params).mappings().all()]


@lru_cache(maxsize=4)
def _page_statement(has_after: bool, has_only: bool):
    # A listing needs no settings document; leaving it out skips decoding one JSON per project.
    listed = [column for column in projects.c if column.name != "settings"]
    query = sa.select(*listed).where(
        projects.c.account_id == sa.bindparam("account_id"), projects.c.region == sa.bindparam("region")
    )
    if has_only:
        query = query.where(projects.c.id == sa.bindparam("only"))
    if has_after:
        position = sa.tuple_(sa.bindparam("after_created"), sa.bindparam("after_id"))
        query = query.where(sa.tuple_(projects.c.created_at, projects.c.id) > position)
    return query.order_by(projects.c.created_at, projects.c.id).limit(sa.bindparam("limit"))


_COUNT = sa.select(sa.func.count()).where(
    projects.c.account_id == sa.bindparam("account_id"), projects.c.region == sa.bindparam("region")
)


def count_projects(conn: Connection, account_id: str, region: str) -> int:
    return conn.execute(_COUNT, {"account_id": account_id, "region": region}).scalar_one()


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


_TAGS = sa.select(tags.c.resource_arn, tags.c.key, tags.c.value).where(
    tags.c.resource_arn.in_(sa.bindparam("arns", expanding=True))
)


def get_tags(conn: Connection, resource_arn: str) -> dict[str, str]:
    return get_tags_of(conn, [resource_arn])[resource_arn]


def get_tags_of(conn: Connection, resource_arns: list[str]) -> dict[str, dict[str, str]]:
    """Tags of several resources in one query (every ARN asked for is in the result)."""
    found: dict[str, dict[str, str]] = {arn: {} for arn in resource_arns}
    for arn, key, value in conn.execute(_TAGS, {"arns": resource_arns}):
        found[arn][key] = value
    return found


def put_tags(conn: Connection, resource_arn: str, values: dict[str, str]) -> None:
    rows = [{"resource_arn": resource_arn, "key": k, "value": v} for k, v in values.items()]
    upsert(conn, tags, rows, ["resource_arn", "key"])


def delete_tags(conn: Connection, resource_arn: str, keys: list[str] | None = None) -> None:
    """Remove the named tags, or every tag of the resource when `keys` is None."""
    statement = tags.delete().where(tags.c.resource_arn == resource_arn)
    if keys is not None:
        statement = statement.where(tags.c.key.in_(keys))
    conn.execute(statement)

"""Endpoints: the stored document plus the columns that make lookups and isolation indexed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.errors import Conflict
from pinfold.db.database import execute_many, is_unique_violation, json_text, keyed_lookup, lock_keys
from pinfold.db.tables import endpoint_attributes, endpoints, segment_members

_KEYS = ("project_id", "id")
_COLUMNS = ("project_id", "id", "channel_type", "address", "user_id", "tenant_value", "document", "effective_at")
_ATTRIBUTE_KEYS = ("project_id", "field", "value", "endpoint_id")
_ATTRIBUTE_COLUMNS = (*_ATTRIBUTE_KEYS, "effective_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
ATTRIBUTE_SECTIONS = ("Attributes", "UserAttributes")


def effective_micros(doc: dict) -> int | None:
    """EffectiveDate as microseconds since the epoch (naive means UTC); None when absent or unparseable."""
    try:
        moment = datetime.fromisoformat(doc.get("EffectiveDate"))
    except (TypeError, ValueError):
        return None
    return micros(moment)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive moment means UTC."""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def attribute_values(doc: dict) -> set[tuple[str, str]]:
    """(field, value) for every value of the document's Attributes and UserAttributes."""
    found = set()
    user = doc.get("User")
    for section, attributes in (("Attributes.", doc.get("Attributes")),
                                ("UserAttributes.", user.get("UserAttributes") if user else None)):
        if attributes:  # plain loops: this runs for every endpoint an import writes
            for name, values in attributes.items():
                field = section + name
                for value in values:
                    found.add((field, value))
    return found


def _tenant_filter(query, tenant_value: str | None):
    return query if tenant_value is None else query.where(endpoints.c.tenant_value == tenant_value)


def lock(conn: Connection, project_id: str, ids: list[str]) -> None:
    """Serialize writers of these endpoints until the transaction ends."""
    lock_keys(conn, f"endpoint:{project_id}", ids)


def get_many(conn: Connection, project_id: str, ids: list[str]) -> dict[str, dict]:
    """Stored rows by id (every tenant's: the caller decides what it may see)."""
    rows = keyed_lookup(conn, endpoints, ("id", "tenant_value", "document"), "project_id", "id",
                        scope_value=project_id, keys=ids)
    return {row.id: {"tenant_value": row.tenant_value, "document": row.document} for row in rows}


def address_holders(conn: Connection, project_id: str, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Which endpoint id holds each (channel type, address) pair in the project."""
    if not pairs:
        return {}
    wanted = set(pairs)
    rows = keyed_lookup(conn, endpoints, ("channel_type", "address", "id"), "project_id", "address",
                        scope_value=project_id, keys=list({address for _, address in pairs}))
    return {(row.channel_type, row.address): row.id for row in rows if (row.channel_type, row.address) in wanted}


def save(conn: Connection, project_id: str, docs: list[dict], tenant_values: list[str | None],
         previous: dict[str, dict] | None = None) -> None:
    """Insert or replace endpoint documents (with their tenant column) and their attribute rows.

    `previous` holds the stored documents these replace, by id (read under the endpoints' locks): only
    the attribute rows that changed (a value, or the EffectiveDate each row carries) are written.
    """
    rows = [
        (project_id, doc["Id"], doc.get("ChannelType"), doc.get("Address"), (doc.get("User") or {}).get("UserId"),
         tenant_value, json_text(doc), effective_micros(doc))
        for doc, tenant_value in zip(docs, tenant_values, strict=True)
    ]
    try:
        execute_many(conn, endpoints, "upsert", _COLUMNS, rows, _KEYS)
    except sa.exc.IntegrityError as error:
        # A concurrent writer claimed an address between our check and this write.
        if is_unique_violation(error):
            raise Conflict("Address conflict: a channel and address in this request were just claimed by "
                           "another request; channel and address must be unique within a project") from None
        raise
    previous = previous or {}
    written, removed = [], []
    for doc, row in zip(docs, rows, strict=True):
        endpoint_id, effective_at, held = doc["Id"], row[-1], attribute_values(doc)
        before = previous.get(endpoint_id)
        if before:
            kept = attribute_values(before)
            removed += [(project_id, field, value, endpoint_id) for field, value in kept - held]
            if effective_micros(before) == effective_at:  # unchanged values keep their copy of it
                held = held - kept
        written += [(project_id, field, value, endpoint_id, effective_at) for field, value in held]
    execute_many(conn, endpoint_attributes, "delete", _ATTRIBUTE_KEYS, removed)
    execute_many(conn, endpoint_attributes, "upsert", _ATTRIBUTE_COLUMNS, written, _ATTRIBUTE_KEYS)


def by_user(conn: Connection, project_id: str, user_id: str, tenant_value: str | None) -> list[dict]:
    query = sa.select(endpoints.c.document).where(
        endpoints.c.project_id == project_id, endpoints.c.user_id == user_id
    )
    query = _tenant_filter(query, tenant_value).order_by(endpoints.c.id)
    return list(conn.execute(query).scalars())


def delete(conn: Connection, project_id: str, docs: list[dict]) -> None:
    """Delete these stored endpoint documents and their attribute rows."""
    conn.execute(endpoints.delete().where(endpoints.c.project_id == project_id,
                                          endpoints.c.id.in_([doc["Id"] for doc in docs])))
    execute_many(conn, endpoint_attributes, "delete", _ATTRIBUTE_KEYS,
                 [(project_id, field, value, doc["Id"]) for doc in docs for field, value in attribute_values(doc)])


def delete_for_tenant(conn: Connection, project_id: str, tenant_value: str) -> int:
    tenant_ids = sa.select(endpoints.c.id).where(endpoints.c.project_id == project_id,
                                                 endpoints.c.tenant_value == tenant_value)
    conn.execute(endpoint_attributes.delete().where(endpoint_attributes.c.project_id == project_id,
                                                    endpoint_attributes.c.endpoint_id.in_(tenant_ids)))
    result = conn.execute(
        endpoints.delete().where(endpoints.c.project_id == project_id, endpoints.c.tenant_value == tenant_value)
    )
    return result.rowcount


def delete_project(conn: Connection, project_id: str) -> None:
    conn.execute(endpoint_attributes.delete().where(endpoint_attributes.c.project_id == project_id))
    conn.execute(endpoints.delete().where(endpoints.c.project_id == project_id))


def iter_with_attributes(conn: Connection, project_id: str, tenant_value: str | None,
                         since_micros: int | None = None, batch: int = 1000, after: str | None = None):
    """Yield (id, tenant_value, document) for every endpoint in the project (with an EffectiveDate of
    at least `since_micros`, when given) whose id sorts after `after` (when given), in id order, by pages."""
    last = after
    while True:
        query = sa.select(endpoints.c.id, endpoints.c.tenant_value, endpoints.c.document).where(
            endpoints.c.project_id == project_id
        )
        if since_micros is not None:
            query = query.where(endpoints.c.effective_at >= since_micros)
        if last is not None:
            query = query.where(endpoints.c.id > last)
        rows = conn.execute(_tenant_filter(query, tenant_value).order_by(endpoints.c.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def candidates(conn: Connection, project_id: str, tenant_value: str | None,
               attribute_values: tuple[tuple[str, frozenset[str]], ...], since: datetime | None, *,
               after: str | None = None, batch: int = 1000):
    """Yield (id, tenant_value, document) in id order for every endpoint that holds one of the values of each
    (field, values) pair and whose EffectiveDate is at or after `since` (when given); with `after`, only
    ids that sort after it (a walk resumed from its last endpoint), read `batch` at a time.

    With attribute criteria, the smallest one drives: its endpoints come from the attribute index
    (recency filtered there, from the copy of EffectiveDate each value row carries) and the others
    are probed per endpoint, so the cost follows the narrowest criterion, not the project. Each page
    is a range of that index in endpoint order, one value at a time, stopping after `batch`: a
    campaign's slice costs the same at the millionth endpoint as at the first. (Reading the ids as
    `id IN (subquery)` made SQLite gather every remaining id first: a 1,000-endpoint slice of a
    1,000,000-endpoint segment took 1 s at its start, against 8 ms as a range.)
    """
    since_micros = None if since is None else micros(since)
    if not attribute_values:
        yield from iter_with_attributes(conn, project_id, tenant_value, since_micros, batch, after)
        return
    (field, values), others = _narrowest_first(conn, project_id, attribute_values)
    while True:
        pages = [_candidate_page(project_id, tenant_value, field, value, others, since_micros, after, batch)
                 for value in sorted(values)]
        rows = conn.execute(pages[0]).all() if len(pages) == 1 else _first_of_each(conn, pages, batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def _candidate_page(project_id: str, tenant_value: str | None, field: str, value: str,
                    others: tuple[tuple[str, frozenset[str]], ...], since_micros: int | None, after: str | None,
                    batch: int) -> sa.Select:
    """The first `batch` endpoints after `after` holding `value` in `field` and meeting the other criteria."""
    driver = endpoint_attributes.alias("driver")
    query = (sa.select(endpoints.c.id, endpoints.c.tenant_value, endpoints.c.document)
             .select_from(driver.join(endpoints, sa.and_(endpoints.c.project_id == driver.c.project_id,
                                                         endpoints.c.id == driver.c.endpoint_id)))
             .where(driver.c.project_id == project_id, driver.c.field == field, driver.c.value == value))
    if since_micros is not None:  # recency first, while scanning the driver's values
        query = query.where(driver.c.effective_at >= since_micros, endpoints.c.effective_at >= since_micros)
    if after is not None:
        query = query.where(driver.c.endpoint_id > after)
    for other_field, other_values in others:
        probe = endpoint_attributes.alias()
        # OFFSET 0 keeps PostgreSQL from turning the probe into a join, which it planned as a scan of
        # the whole criterion per driving row when the tables had no statistics yet (after an import).
        query = query.where(sa.select(sa.literal(1)).where(
            probe.c.project_id == project_id, probe.c.field == other_field,
            probe.c.value.in_(sorted(other_values)), probe.c.endpoint_id == driver.c.endpoint_id,
        ).offset(0).exists())
    return _tenant_filter(query, tenant_value).order_by(driver.c.endpoint_id).limit(batch)


def _first_of_each(conn: Connection, pages: list[sa.Select], batch: int) -> list:
    """The first `batch` distinct endpoints of several values' pages, in the database's id order (one
    endpoint may hold two of the values). Each page holds its value's first `batch`, so these are the
    first `batch` of all."""
    arms = [sa.select(page.subquery()) for page in pages]  # a subquery each: SQLite takes no LIMIT in a UNION arm
    merged = sa.union_all(*arms).subquery()
    rows: list = []
    for row in conn.execute(sa.select(merged).order_by(merged.c.id).limit(batch * len(pages))):
        if not rows or rows[-1].id != row.id:
            rows.append(row)
            if len(rows) == batch:
                break
    return rows


def listed(conn: Connection, project_id: str, segment_id: str, tenant_value: str | None, *,
           after: str | None, limit: int):
    """(id, tenant_value, document) of up to `limit` endpoints an imported segment lists, in id order
    after `after` (listed endpoints that no longer exist are passed over)."""
    query = (sa.select(endpoints.c.id, endpoints.c.tenant_value, endpoints.c.document)
             .join(segment_members, sa.and_(segment_members.c.endpoint_id == endpoints.c.id,
                                            segment_members.c.segment_id == segment_id))
             .where(endpoints.c.project_id == project_id))
    if after is not None:
        query = query.where(segment_members.c.endpoint_id > after)
    return conn.execute(_tenant_filter(query, tenant_value).order_by(endpoints.c.id).limit(limit)).all()


_COUNT_CAP = 50_000


def _narrowest_first(conn: Connection, project_id: str, criteria: tuple[tuple[str, frozenset[str]], ...]):
    """(the criterion held by the fewest endpoints, the others). Counting walks index entries, so each
    count stops at the smallest found so far: only which is smallest matters, not by how much."""
    if len(criteria) == 1:
        return criteria[0], criteria[1:]
    best, best_count = 0, _COUNT_CAP
    for index, (field, values) in enumerate(criteria):
        held = (sa.select(sa.literal(1)).where(endpoint_attributes.c.project_id == project_id,
                                              endpoint_attributes.c.field == field,
                                              endpoint_attributes.c.value.in_(sorted(values)))
                .limit(best_count).subquery())
        count = conn.execute(sa.select(sa.func.count()).select_from(held)).scalar_one()
        if count < best_count:
            best, best_count = index, count
    return criteria[best], criteria[:best] + criteria[best + 1:]


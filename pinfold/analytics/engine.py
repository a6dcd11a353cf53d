"""DuckDB over the lake, confined to what one caller may see.

Each Engine is a fresh in-memory DuckDB. `lake_records` reads the Parquet files under the caller's
folder of the lake (everything, its account, or its project); `all_events` keeps only the caller's
rows (in a shared sa-sp project, only its tenant's); every named view reads `all_events`. Once the
views exist, file access is switched off except for that folder and the configuration is locked, so
SQL run on the engine can neither read other files nor undo the confinement. (DuckDB re-reads the
files on every query, so the folder itself has to stay readable.)

Raw SQL is for organization and account operators only. A tenant's or a project key's folder can
hold records that are not theirs (sa-sp tenants share one project), and raw SQL could read those
files directly, so those callers get the named views with equality filters, never free SQL.

An s3:// lake (or any non-local one) is read through pyarrow: the engine lists the Parquet files
under the caller's folder once, when it opens, and DuckDB scans them as a registered Arrow dataset.
That DuckDB has no way of its own to reach S3, so the confinement holds by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.dataset as pads
import pyarrow.fs as pafs

from pinfold.analytics import views
from pinfold.context import Context
from pinfold.core.access import Caller, TenantScope
from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from pinfold.core.sources import S3Settings
from pinfold.events.sinks.lake import SCHEMA, Lake
from pinfold.tenancy.store import tenants as tenant_store

DEFAULT_LIMIT = 1000
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Reach:
    """The part of the lake a caller reads: a folder under the lake root, the `pinfold` fields every
    row must match, and whether it may run raw SQL."""

    folder: str
    rows: tuple[tuple[str, str], ...]
    raw_sql: bool


def reach_of(caller: Caller) -> Reach:
    if caller.scope == "organization":
        return Reach("events/", (), True)
    account = f"events/account={caller.account_id}/"
    in_account = ("account_id", caller.account_id)
    if caller.scope == "account":
        return Reach(account, (in_account,), True)
    if caller.tenant is not None:
        tenant = caller.tenant
        mine = ("tenant_id", tenant.tenant_id)
        if tenant.model == "ma-mp":
            return Reach(account, (in_account, mine), False)
        return Reach(f"{account}project={tenant.project_id}/", (in_account, ("project_id", tenant.project_id), mine),
                     False)
    if caller.scope == "project" and caller.project_id:
        return Reach(f"{account}project={caller.project_id}/", (in_account, ("project_id", caller.project_id)), False)
    raise Forbidden("These credentials cannot read analytics")


class Engine:
    """Named views (and, for operators, SQL) over one caller's share of the lake; close it when done."""

    def __init__(self, lake: Lake, reach: Reach) -> None:
        self.reach = reach
        folder = f"{lake.root.rstrip('/')}/{reach.folder}"
        local = isinstance(lake.filesystem, pafs.LocalFileSystem)
        self._con = duckdb.connect(":memory:")
        try:
            self._create_views(folder if local else None, None if local else _remote_files(lake, folder))
            self._confine(folder if local else None)
        except BaseException:
            self._con.close()
            raise

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def _create_views(self, folder: str | None, remote) -> None:
        """`lake_records` over the local folder's files, or over `remote` (an Arrow dataset or None)."""
        con = self._con
        columns = ", ".join(f'"{name}"' for name in SCHEMA.names)
        if folder is not None and _has_files(folder):
            con.execute(f"""CREATE VIEW lake_records AS SELECT {columns}
                            FROM read_parquet({_literal(folder + '**/*.parquet')}, hive_partitioning = true,
                                              hive_types_autocast = false, union_by_name = true)""")
        elif remote is not None:
            con.register("remote_records", remote)
            con.execute(f"CREATE VIEW lake_records AS SELECT {columns} FROM remote_records")
        else:  # DuckDB cannot read a glob that matches nothing: stand in an empty table of the same shape
            con.register("no_records", SCHEMA.empty_table())
            con.execute(f"CREATE TABLE lake_records AS SELECT {columns} FROM no_records")
            con.unregister("no_records")
        where = " AND ".join(f"pinfold.{field} = {_literal(value)}" for field, value in self.reach.rows) or "true"
        con.execute(f"CREATE VIEW all_events AS {views.all_events_sql('lake_records', where)}")
        for view in views.VIEWS:
            con.execute(f"CREATE VIEW {view.name} AS {view.sql}")

    def _confine(self, folder: str | None) -> None:
        con = self._con
        con.execute("SET temp_directory = ''")  # else DuckDB also allows its spill folder
        if folder is not None:
            con.execute(f"SET allowed_directories = [{_literal(folder)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")

    def view(self, name: str, filters: dict[str, str] | None = None, limit: int = DEFAULT_LIMIT) -> dict:
        """Rows of a named view where each filtered column equals its value (compared as text)."""
        if name not in views.NAMES:
            raise NotFound(f"No analytics view named {name!r}; list them with `pinfold analytics views`")
        columns = {row[0] for row in self._con.execute(f"DESCRIBE {name}").fetchall()}
        clauses, params = [], []
        for column, value in (filters or {}).items():
            if column not in columns:
                raise InvalidInput(f"View {name} has no column {column!r}", field=column)
            clauses.append(f'CAST("{column}" AS VARCHAR) = ?')
            params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        limit = max(1, min(int(limit), MAX_ROWS))
        return self._run(f"SELECT * FROM {name}{where} LIMIT {limit + 1}", params, limit)

    def sql(self, text: str, max_rows: int = MAX_ROWS) -> dict:
        """Run an operator's SQL over the views; at most `max_rows` rows come back (`truncated` says so)."""
        if not self.reach.raw_sql:
            raise Forbidden("Raw SQL is for organization and account operators; these credentials can query the "
                            "named views (with filters) instead")
        return self._run(text, [], max_rows)

    def fetch(self, query: str, params: list | None = None) -> list[dict]:
        """Rows of Pinfold's own SQL (KPIs); never pass a caller's text here."""
        return self._run(query, params or [], None)["rows"]

    def _run(self, query: str, params: list, max_rows: int | None) -> dict:
        try:
            cursor = self._con.execute(query, params)
            if cursor is None or cursor.description is None:  # None: the text held no statement (";")
                return {"columns": [], "rows": [], "truncated": False}
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall() if max_rows is None else cursor.fetchmany(max_rows + 1)
        except duckdb.PermissionException as error:
            raise Forbidden(f"Not allowed here: {_first_line(error)}") from None
        except duckdb.Error as error:
            raise InvalidInput(f"SQL error: {_first_line(error)}", field="sql") from None
        truncated = max_rows is not None and len(rows) > max_rows
        rows = rows[:max_rows] if truncated else rows
        return {"columns": columns, "rows": [dict(zip(columns, row, strict=True)) for row in rows],
                "truncated": truncated}


def list_views() -> list[dict]:
    """Every named view with a one-line description, base view first."""
    return [{"name": view.name, "description": view.description} for view in views.CATALOG]


def open_for(ctx: Context, caller: Caller) -> Engine:
    """An engine over the default lake that shows exactly what `caller` may see."""

    return Engine(Lake(ctx.settings.resolved_lake_url, S3Settings.of(ctx.settings)), reach_of(caller))


def viewer_for(ctx: Context, caller: Caller, tenant_id: str | None) -> Caller:
    """The caller itself, or, for organization administrators, a Caller that sees what tenant
    `tenant_id` sees (its registry placement, as its own credentials would)."""
    if tenant_id is None or caller.tenant_id == tenant_id:
        return caller
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        row = tenant_store.get_tenant(conn, tenant_id)
    if row is None:
        raise NotFound(f"Tenant {tenant_id} is not in the registry")
    scope = TenantScope(row["id"], row["model"], row["project_id"], row["attribute_key"], row["attribute_value"])
    return Caller(principal_id=caller.principal_id, account_id=row["account_id"], region=row["region"],
                  scope="tenant", tenant=scope, request_id=caller.request_id)


def _remote_files(lake: Lake, folder: str):
    """An Arrow dataset of the Parquet files under `folder` of a remote lake, or None when there are none."""
    found = lake.filesystem.get_file_info(pafs.FileSelector(folder, recursive=True, allow_not_found=True))
    paths = sorted(info.path for info in found if info.path.endswith(".parquet"))
    if not paths:
        return None
    return pads.dataset(paths, schema=SCHEMA, format="parquet", filesystem=lake.filesystem)


def _has_files(folder: str) -> bool:
    return next(Path(folder).rglob("*.parquet"), None) is not None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]

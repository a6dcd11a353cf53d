"""Segments: versioned definitions over a project's endpoints, and who is in them.

Every update writes a new version; old versions stay readable. In an sa-sp shared project a
segment belongs to the tenant that made it: other tenants never see it, and resolving any
segment for a tenant yields only that tenant's endpoints, whatever the definition says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime

from pinfold.audience.rules.segments import Narrowing, SegmentRule, compile_segment
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.audience.store import jobs as job_store
from pinfold.audience.store import segments as store
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import TENANT_TAG, Caller, project_resource_owner
from pinfold.core.arns import segment_arn
from pinfold.core.errors import InvalidInput, NotFound
from pinfold.core.numbers import whole_number
from pinfold.core.paging import decode_token, encode_token, page_size
from pinfold.core.tags import check_tags
from pinfold.projects import projects as project_service
from pinfold.projects import store as tag_store

_DEFINITION = ("Dimensions", "SegmentGroups")


def require(conn, caller: Caller, project_id: str, segment_id: str) -> tuple[dict, dict]:
    """The project and segment if the caller may see them; NotFound otherwise."""
    project = project_service.require(conn, caller, project_id)
    segment = store.get(conn, project_id, segment_id)
    owner = project_resource_owner(caller)
    if segment is None or (owner is not None and segment["tenant_id"] != owner):
        raise NotFound(f"Resource not found: segment {segment_id}")
    return project, segment


def _response(project: dict, segment: dict, version: dict, tags: dict[str, str]) -> dict:
    definition = version["definition"]
    return {
        "ApplicationId": project["id"], "Arn": segment_arn(project["region"], project["account_id"], project["id"],
                                                          segment["id"]),
        "Id": segment["id"], "Name": version["name"], "SegmentType": segment["segment_type"],
        "Version": version["version"], "CreationDate": segment["created_at"], "LastModifiedDate": version["created_at"],
        **{key: definition[key] for key in (*_DEFINITION, "ImportDefinition") if definition.get(key) is not None},
        "tags": tags,
    }


def _check_sources(conn, caller: Caller, project_id: str, rule: SegmentRule, own_id: str | None) -> None:
    """Every source segment must exist and be visible to the caller, and none may lead back to the
    segment itself, directly or through other segments (resolution would never end)."""
    for source_id, version in rule.source_segments:
        if source_id == own_id:
            raise InvalidInput("A segment cannot be its own source segment", field="SegmentGroups")
        _project, source = require(conn, caller, project_id, source_id)
        if version is not None and not 1 <= version <= source["version"]:
            raise NotFound(f"Resource not found: version {version} of segment {source_id}")
    if own_id is not None and _leads_to(conn, rule.source_segments, own_id):
        raise InvalidInput("These source segments use this segment themselves; segments cannot form a cycle",
                           field="SegmentGroups")


def _leads_to(conn, sources, target_id: str) -> bool:
    """Whether following source segments (pinned versions, or the latest) ever reaches `target_id`."""
    pending, seen = list(sources), set()
    while pending:
        source_id, version = pending.pop()
        if source_id == target_id:
            return True
        if (source_id, version) in seen:
            continue
        seen.add((source_id, version))
        row = store.get_version(conn, source_id, version or store.get_by_id(conn, source_id)["version"])
        pending.extend(compile_segment(row["definition"]).source_segments)
    return False


def create(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    if not request.get("Name"):
        raise InvalidInput("Name is required to create a segment", field="Name")
    rule = compile_segment(request)
    tags = dict(request.get("tags") or {})
    owner = project_resource_owner(caller)
    if owner is not None:
        tags[TENANT_TAG] = owner  # the brief's tag, so reports can tell tenants apart
    check_tags(tags)
    now = ids.iso_now()
    segment = {"id": ids.new_project_id(), "project_id": project_id, "name": request["Name"],
               "segment_type": "DIMENSIONAL", "version": 1, "tenant_id": owner, "created_at": now, "modified_at": now}
    definition = {key: request[key] for key in _DEFINITION if request.get(key) is not None}
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        _check_sources(conn, caller, project_id, rule, None)
        store.insert(conn, segment, definition)
        arn = segment_arn(project["region"], project["account_id"], project_id, segment["id"])
        tag_store.put_tags(conn, arn, tags)
        version = store.get_version(conn, segment["id"], 1)
    return _response(project, segment, version, tags)


def update(ctx: Context, caller: Caller, project_id: str, segment_id: str, request: dict) -> dict:
    """Write the next version: members given replace the latest version's, the rest carry over."""
    with ctx.db.write() as conn:
        project, segment = require(conn, caller, project_id, segment_id)
        if segment["segment_type"] == "IMPORT":
            raise InvalidInput("Imported segments cannot be edited; import again instead", field="SegmentId")
        latest = store.get_version(conn, segment_id, segment["version"])
        definition = {**latest["definition"], **{k: request[k] for k in _DEFINITION if request.get(k) is not None}}
        rule = compile_segment(definition)
        _check_sources(conn, caller, project_id, rule, segment_id)
        name, number, now = request.get("Name") or latest["name"], segment["version"] + 1, ids.iso_now()
        store.add_version(conn, segment_id, number, name, definition, now)
        store.set_latest(conn, segment_id, version=number, name=name, modified_at=now)
        arn = segment_arn(project["region"], project["account_id"], project_id, segment_id)
        if request.get("tags"):
            tags = {**tag_store.get_tags(conn, arn), **request["tags"]}
            if project_resource_owner(caller) is not None:
                tags[TENANT_TAG] = project_resource_owner(caller)
            check_tags(tags)
            tag_store.put_tags(conn, arn, tags)
        version = store.get_version(conn, segment_id, number)
        return _response(project, segment, version, tag_store.get_tags(conn, arn))


def get(ctx: Context, caller: Caller, project_id: str, segment_id: str, version: int | None = None) -> dict:
    with ctx.db.read() as conn:
        project, segment = require(conn, caller, project_id, segment_id)
        found = store.get_version(conn, segment_id, version if version is not None else segment["version"])
        if found is None:
            raise NotFound(f"Resource not found: version {version} of segment {segment_id}")
        arn = segment_arn(project["region"], project["account_id"], project_id, segment_id)
        return _response(project, segment, found, tag_store.get_tags(conn, arn))


def list_page(ctx: Context, caller: Caller, project_id: str, raw_size: str | None, token: str | None) -> dict:
    size = page_size(raw_size)
    with ctx.db.read() as conn:
        project = project_service.require(conn, caller, project_id)
        rows = store.list_page(conn, project_id, tenant_id=project_resource_owner(caller), after=decode_token(token),
                               limit=size + 1)
        shown = rows[:size]
        arns = [segment_arn(project["region"], project["account_id"], project_id, row["id"]) for row in shown]
        tags = tag_store.get_tags_of(conn, arns)
        items = [_response(project, row, store.get_version(conn, row["id"], row["version"]), tags[arn])
                 for row, arn in zip(shown, arns, strict=True)]
    page = {"Item": items}
    if len(rows) > size:
        page["NextToken"] = encode_token((shown[-1]["created_at"], shown[-1]["id"]))
    return page


def versions_page(ctx: Context, caller: Caller, project_id: str, segment_id: str, raw_size: str | None,
                  token: str | None) -> dict:
    size = page_size(raw_size)
    after = whole_number(decode_token(token)[1], field="Token", low=0) if token else 0
    with ctx.db.read() as conn:
        project, segment = require(conn, caller, project_id, segment_id)
        rows = store.versions_page(conn, segment_id, after=after, limit=size + 1)
        arn = segment_arn(project["region"], project["account_id"], project_id, segment_id)
        tags = tag_store.get_tags(conn, arn)
        items = [_response(project, segment, row, tags) for row in rows[:size]]
    page = {"Item": items}
    if len(rows) > size:
        page["NextToken"] = encode_token((segment_id, str(rows[size - 1]["version"])))
    return page


def delete(ctx: Context, caller: Caller, project_id: str, segment_id: str) -> dict:
    with ctx.db.write() as conn:
        project, segment = require(conn, caller, project_id, segment_id)
        arn = segment_arn(project["region"], project["account_id"], project_id, segment_id)
        shown = _response(project, segment, store.get_version(conn, segment_id, segment["version"]),
                          tag_store.get_tags(conn, arn))
        store.delete(conn, segment_id)
        job_store.delete_members(conn, segment_id)
        tag_store.delete_tags(conn, arn)
    return shown


def members(ctx: Context, caller: Caller, project_id: str, segment_id: str,
            version: int | None = None) -> Iterator[dict]:
    """The endpoints in a segment that the caller may see, in id order."""
    with ctx.db.read() as conn:
        require(conn, caller, project_id, segment_id)
        rules = _Rules(conn, project_id, datetime.now(UTC))
        rule = rules.of(segment_id, version)
        confined = caller.endpoint_tenant
        # The store narrows by index; the rule decides.
        narrowing = rule.narrowing
        rows = endpoint_store.candidates(conn, project_id, confined[1] if confined else None,
                                         narrowing.attribute_values, narrowing.since(rules.now))
        for row in rows:
            if rules.matches(rule, row.document):
                yield {**row.document, "ApplicationId": project_id}


def members_after(conn, project_id: str, segment_id: str, version: int, tenant_value: str | None,
                  after: str | None, limit: int) -> tuple[list[dict], str | None]:
    """One step of a resumable walk over a segment version's members, in id order: (the members among
    the next `limit` endpoints after `after`, the last endpoint id looked at, None once the walk has
    ended). `tenant_value` confines the walk to one sa-sp tenant's endpoints. Each step reads at most
    `limit` candidate endpoints, so its cost does not grow with the project. The caller has already
    checked that it may see the segment (a campaign did, when it was created)."""
    rules = _Rules(conn, project_id, datetime.now(UTC))
    row = store.get_version(conn, segment_id, version)
    if row is None:
        raise NotFound(f"Segment {segment_id} has no version {version}")
    if "ImportDefinition" in row["definition"]:
        rows = endpoint_store.listed(conn, project_id, segment_id, tenant_value, after=after, limit=limit)
        found = [r.document for r in rows]
    else:
        rule = rules.of(segment_id, version)
        narrowing = rule.narrowing
        rows, found = [], []
        walk = endpoint_store.candidates(conn, project_id, tenant_value, narrowing.attribute_values,
                                         narrowing.since(rules.now), after=after, batch=limit)
        with closing(walk):
            for candidate in walk:
                rows.append(candidate)
                if rules.matches(rule, candidate.document):
                    found.append(candidate.document)
                if len(rows) >= limit:
                    break
    last = rows[-1].id if len(rows) >= limit else None
    return [{**doc, "ApplicationId": project_id} for doc in found], last


def members_among(conn, project_id: str, segment_id: str, version: int, tenant_value: str | None,
                  endpoint_ids: list[str]) -> list[dict]:
    """Which of these endpoints are members of a segment version, each once, in the order given (an
    event-based campaign asks of the endpoints that reported its event). `tenant_value` confines
    them to one sa-sp tenant's endpoints; the caller has checked that it may see the segment."""
    if store.get_version(conn, segment_id, version) is None:
        raise NotFound(f"Segment {segment_id} has no version {version}")
    rules = _Rules(conn, project_id, datetime.now(UTC))
    rule = rules.of(segment_id, version)
    wanted = list(dict.fromkeys(endpoint_ids))
    stored = endpoint_store.get_many(conn, project_id, wanted)
    found = []
    for endpoint_id in wanted:
        row = stored.get(endpoint_id)
        if row is None or (tenant_value is not None and row["tenant_value"] != tenant_value):
            continue
        if rules.matches(rule, row["document"]):
            found.append({**row["document"], "ApplicationId": project_id})
    return found


class _Rules:
    """The compiled rules of a segment and of the segments it takes members from, each read once."""

    def __init__(self, conn, project_id: str, now: datetime) -> None:
        self.conn, self.project_id, self.now = conn, project_id, now
        self._rules: dict[tuple[str, int | None], SegmentRule | _ImportedRule] = {}

    def of(self, source_id: str, number: int | None) -> SegmentRule | _ImportedRule:
        if (source_id, number) not in self._rules:
            source = store.get(self.conn, self.project_id, source_id) if number is None else None
            if number is None and source is None:  # a source segment deleted since
                raise NotFound(f"Segment {source_id} does not exist")
            row = store.get_version(self.conn, source_id, number or source["version"])
            if row is None:
                raise NotFound(f"Segment {source_id} has no version {number}")
            if "ImportDefinition" in row["definition"]:
                self._rules[(source_id, number)] = _ImportedRule(job_store.member_ids(self.conn, source_id))
            else:
                self._rules[(source_id, number)] = compile_segment(row["definition"])
        return self._rules[(source_id, number)]

    def in_source(self, source_id: str, number: int | None, endpoint: dict) -> bool:
        return self.matches(self.of(source_id, number), endpoint)

    def matches(self, rule: SegmentRule | _ImportedRule, endpoint: dict) -> bool:
        return rule.matches(endpoint, now=self.now, in_source=self.in_source)


class _ImportedRule:
    """An imported segment's membership: the endpoints its import jobs listed."""

    source_segments = ()
    narrowing = Narrowing()

    def __init__(self, member_ids: set[str]) -> None:
        self.member_ids = member_ids

    def matches(self, endpoint: dict, **_context) -> bool:
        return endpoint["Id"] in self.member_ids


def create_imported(ctx: Context, caller: Caller, project_id: str, name: str, import_definition: dict) -> str:
    """A new IMPORT segment for an import job to fill; returns its id."""
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        return create_imported_in(conn, caller, project, name, import_definition)


def create_imported_in(conn, caller: Caller, project: dict, name: str, import_definition: dict) -> str:
    """create_imported inside the caller's transaction, for a project it has already checked."""
    owner, now = project_resource_owner(caller), ids.iso_now()
    segment = {"id": ids.new_project_id(), "project_id": project["id"], "name": name, "segment_type": "IMPORT",
               "version": 1, "tenant_id": owner, "created_at": now, "modified_at": now}
    store.insert(conn, segment, {"ImportDefinition": import_definition})
    if owner is not None:
        arn = segment_arn(project["region"], project["account_id"], project["id"], segment["id"])
        tag_store.put_tags(conn, arn, {TENANT_TAG: owner})
    return segment["id"]


def record_import_size(conn, segment_id: str, size: int, channel_counts: dict[str, int]) -> None:
    """Write an import's final Size and ChannelCounts into the segment's latest version."""
    segment = store.get_by_id(conn, segment_id)
    version = store.get_version(conn, segment_id, segment["version"])
    definition = version["definition"]
    definition["ImportDefinition"] = {**definition["ImportDefinition"], "Size": size, "ChannelCounts": channel_counts}
    store.set_definition(conn, segment_id, segment["version"], definition)


def size(ctx: Context, caller: Caller, project_id: str, segment_id: str, version: int | None = None) -> int:
    return sum(1 for _ in members(ctx, caller, project_id, segment_id, version))


def preview(ctx: Context, caller: Caller, project_id: str, segment_id: str, limit: int = 20) -> list[dict]:
    found = []
    for endpoint in members(ctx, caller, project_id, segment_id):
        found.append(endpoint)
        if len(found) >= limit:
            break
    return found


def remove_project_segments(conn, project: dict) -> None:
    """Delete every segment of a project with its tags (the project is going away)."""
    for segment_id in store.delete_project(conn, project["id"]):
        job_store.delete_members(conn, segment_id)
        tag_store.delete_tags(conn, segment_arn(project["region"], project["account_id"], project["id"], segment_id))


def remove_tenant_segments(conn, project: dict, tenant_id: str) -> int:
    """Delete an offboarded sa-sp tenant's segments from the shared project."""
    removed = store.delete_for_tenant(conn, project["id"], tenant_id)
    for segment_id in removed:
        job_store.delete_members(conn, segment_id)
        tag_store.delete_tags(conn, segment_arn(project["region"], project["account_id"], project["id"], segment_id))
    return len(removed)


def operator_view(ctx: Context, caller: Caller, project_id: str, tenant_id: str | None = None) -> Caller:
    """For an organization administrator: a Caller that sees the project as its account does, or,
    with `tenant_id`, exactly as that tenant's credentials would."""
    from pinfold.core.access import TenantScope
    from pinfold.projects import store as project_store
    from pinfold.tenancy.store import tenants as tenant_store

    caller.require_organization_admin()
    with ctx.db.read() as conn:
        project = project_store.get_project_by_id(conn, project_id)
        tenant = tenant_store.get_tenant(conn, tenant_id) if tenant_id else None
    if project is None:
        raise NotFound(f"Resource not found: project {project_id}")
    if tenant_id and (tenant is None or tenant["project_id"] != project_id and tenant["model"] != "ma-mp"):
        raise NotFound(f"Tenant {tenant_id} has no place in project {project_id}")
    scope = None if tenant is None else TenantScope(tenant["id"], tenant["model"], tenant["project_id"],
                                                    tenant["attribute_key"], tenant["attribute_value"])
    return Caller(principal_id=caller.principal_id, account_id=project["account_id"], region=project["region"],
                  scope="tenant" if scope else "account", tenant=scope, request_id=caller.request_id)

"""Campaigns through the service layer: lifecycle, versions, what a definition may name, the HEAD
check, quotas, deletion with the project or the tenant, and isolation in the three tenancy models."""

from __future__ import annotations

import http.server
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinfold import onboarding, tags
from pinfold.audience import segments
from pinfold.campaigns import campaigns, references
from pinfold.campaigns.store import activities as activity_store
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.core.errors import InvalidInput, LimitExceeded, NotFound, PinfoldError
from pinfold.email import identities as email_identities
from pinfold.messaging import channels, templates
from pinfold.projects import projects
from pinfold.projects import store as tag_store
from tests.service.helpers import onboard, operator

EMAIL = {"EmailMessage": {"Title": "Spring", "HtmlBody": "<p>Hello {{User.UserAttributes.name}}</p>"}}


def _future(days: int = 10) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _email_channel(ctx, admin, project_id: str) -> None:
    """The project's email channel, set up as the operator does it."""
    caller = segments.operator_view(ctx, admin, project_id)
    try:
        email_identities.create(ctx, caller, {"EmailIdentity": "example.com"})
    except PinfoldError:
        pass  # a project of the same account set it up already
    channels.update_email(ctx, caller, project_id, {
        "FromAddress": "news@example.com",
        "Identity": f"arn:aws:ses:{caller.region}:{caller.account_id}:identity/example.com"})


def _segment(ctx, caller, project_id: str, name: str = "everyone") -> str:
    return segments.create(ctx, caller, project_id, {"Name": name, "Dimensions": {}})["Id"]


def _request(segment_id: str, **members) -> dict:
    return {"Name": "spring", "SegmentId": segment_id, "MessageConfiguration": EMAIL,
            "Schedule": {"StartTime": _future(), "Frequency": "ONCE"}, **members}


@pytest.fixture
def ready(ctx, admin, project):
    _email_channel(ctx, admin, project)
    return project, _segment(ctx, admin, project)


def test_campaign_lifecycle(ctx, admin, ready):
    project, segment_id = ready
    created = campaigns.create(ctx, admin, project, _request(segment_id, tags={"team": "growth"}))
    assert created == {**created, "ApplicationId": project, "Version": 1, "SegmentId": segment_id,
                       "SegmentVersion": 1, "State": {"CampaignStatus": "SCHEDULED"}, "IsPaused": False,
                       "Name": "spring", "MessageConfiguration": EMAIL, "tags": {"team": "growth"}}
    assert created["Arn"].endswith(f":apps/{project}/campaigns/{created['Id']}")
    assert "DefaultState" not in created and "AdditionalTreatments" not in created
    campaign_id = created["Id"]
    assert campaigns.get(ctx, admin, project, campaign_id) == created
    updated = campaigns.update(ctx, admin, project, campaign_id, {"Name": "summer", "tags": {"ignored": "yes"}})
    assert (updated["Version"], updated["Name"], updated["tags"]) == (2, "summer", {"team": "growth"})
    assert updated["Schedule"] == created["Schedule"]  # carried over
    assert campaigns.get(ctx, admin, project, campaign_id, 1)["Name"] == "spring"
    with pytest.raises(NotFound):
        campaigns.get(ctx, admin, project, campaign_id, 3)
    versions = campaigns.versions_page(ctx, admin, project, campaign_id, "1", None)
    assert [v["Version"] for v in versions["Item"]] == [1]
    rest = campaigns.versions_page(ctx, admin, project, campaign_id, "1", versions["NextToken"])
    assert [v["Version"] for v in rest["Item"]] == [2] and "NextToken" not in rest
    paused = campaigns.update(ctx, admin, project, campaign_id, {"IsPaused": True})
    assert (paused["State"], paused["IsPaused"]) == ({"CampaignStatus": "PAUSED"}, True)
    resumed = campaigns.update(ctx, admin, project, campaign_id, {"IsPaused": False})
    assert resumed["State"] == {"CampaignStatus": "SCHEDULED"} and resumed["Version"] == 4
    tags.tag(ctx, admin, created["Arn"], {"owner": "ana"})
    tags.untag(ctx, admin, created["Arn"], ["team"])
    assert tags.list_tags(ctx, admin, created["Arn"]) == {"owner": "ana"}
    listed = campaigns.list_page(ctx, admin, project, None, None)["Item"]
    assert [(c["Id"], c["Version"]) for c in listed] == [(campaign_id, 4)]
    assert campaigns.delete(ctx, admin, project, campaign_id)["Version"] == 4
    with pytest.raises(NotFound):
        campaigns.get(ctx, admin, project, campaign_id)
    with pytest.raises(NotFound):
        tags.list_tags(ctx, admin, created["Arn"])


def test_treatments_show_ids_and_states(ctx, admin, ready):
    project, segment_id = ready
    created = campaigns.create(ctx, admin, project, _request(segment_id, HoldoutPercent=10, AdditionalTreatments=[
        {"SizePercent": 40, "TreatmentName": "B", "MessageConfiguration": {
            "EmailMessage": {"Title": "B", "Body": "b"}}}]))
    assert created["DefaultState"] == {"CampaignStatus": "SCHEDULED"}
    assert created["AdditionalTreatments"] == [{"Id": "1", "SizePercent": 40, "TreatmentName": "B", "State": {
        "CampaignStatus": "SCHEDULED"}, "MessageConfiguration": {"EmailMessage": {"Title": "B", "Body": "b"}}}]


def test_the_projects_defaults_are_copied_in_at_creation(ctx, admin, ready):
    project, segment_id = ready
    projects.update_settings(ctx, admin, project, {"Limits": {"Daily": 5, "Total": 20},
                                                   "QuietTime": {"Start": "22:00", "End": "07:00"}})
    created = campaigns.create(ctx, admin, project, _request(segment_id, Limits={"Daily": 2}))
    assert created["Limits"] == {"Daily": 2, "Total": 20}
    assert created["Schedule"]["QuietTime"] == {"Start": "22:00", "End": "07:00"}
    projects.update_settings(ctx, admin, project, {"Limits": {"Total": 50}})
    assert campaigns.get(ctx, admin, project, created["Id"])["Limits"] == {"Daily": 2, "Total": 20}


def test_an_immediate_campaign_starts_now_and_cannot_be_paused(ctx, admin, ready):
    project, segment_id = ready
    before = time.time()
    created = campaigns.create(ctx, admin, project, _request(segment_id, Schedule={"StartTime": "IMMEDIATE"}))
    with ctx.db.read() as conn:
        assert before <= campaign_store.get(conn, project, created["Id"])["next_run_at"] <= time.time()
    with pytest.raises(InvalidInput, match="An IMMEDIATE campaign cannot be paused"):
        campaigns.update(ctx, admin, project, created["Id"], {"IsPaused": True})


def test_what_a_definition_names_must_exist(ctx, admin, ready):
    project, segment_id = ready

    def refused(request: dict, field: str) -> str:
        with pytest.raises(InvalidInput) as caught:
            campaigns.create(ctx, admin, project, request)
        assert caught.value.field == field, caught.value.message
        return caught.value.message

    assert "does not exist" in refused(_request("0" * 32), "SegmentId")
    assert "no version 7" in refused(_request(segment_id, SegmentVersion=7), "SegmentVersion")
    assert "does not exist" in refused(_request(segment_id, MessageConfiguration=None, TemplateConfiguration={
        "EmailTemplate": {"Name": "missing"}}), "TemplateConfiguration.EmailTemplate")
    templates.create(ctx, admin, "welcome", "EMAIL", {"Subject": "Hi", "HtmlPart": "<p>hi</p>"})
    assert "version 9" in refused(_request(segment_id, MessageConfiguration=None, TemplateConfiguration={
        "EmailTemplate": {"Name": "welcome", "Version": "9"}}), "TemplateConfiguration.EmailTemplate")
    campaigns.create(ctx, admin, project, _request(segment_id, MessageConfiguration=None, TemplateConfiguration={
        "EmailTemplate": {"Name": "welcome", "Version": "1"}}))
    assert "SMS channel is not enabled" in refused(
        _request(segment_id, MessageConfiguration={"SMSMessage": {"Body": "hi"}}), "MessageConfiguration")
    assert "SegmentId is required" in refused({"Schedule": {"StartTime": _future()}, "MessageConfiguration": EMAIL},
                                              "SegmentId")


def test_event_campaigns_need_a_dynamic_segment_and_are_capped_per_project(ctx, admin, ready):
    project, segment_id = ready
    event = {"StartTime": "IMMEDIATE", "Frequency": "EVENT",
             "EventFilter": {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"Values": ["signup"]}}}}
    imported = segments.create_imported(ctx, admin, project, "imported", {"Format": "CSV", "Size": 0})
    with pytest.raises(InvalidInput, match="dynamic segment"):
        campaigns.create(ctx, admin, project, _request(imported, Schedule=event))
    made = [campaigns.create(ctx, admin, project, _request(segment_id, Schedule=event))
            for _ in range(references.MAX_EVENT_CAMPAIGNS)]
    with ctx.db.read() as conn:
        assert campaign_store.get(conn, project, made[0]["Id"])["next_run_at"] is None  # triggers drive them
    with pytest.raises(LimitExceeded, match="at most 25 event-triggered"):
        campaigns.create(ctx, admin, project, _request(segment_id, Schedule=event))


def test_at_most_200_active_campaigns_per_account(ctx, admin, ready):
    project, segment_id = ready
    request = _request(segment_id)
    for _ in range(references.MAX_ACTIVE_CAMPAIGNS - 1):
        campaigns.create(ctx, admin, project, request)
    paused = campaigns.create(ctx, admin, project, {**request, "IsPaused": True})  # paused ones are not active
    campaigns.create(ctx, admin, project, request)
    with pytest.raises(LimitExceeded, match="Active campaign limit exceeded"):
        campaigns.create(ctx, admin, project, request)
    with pytest.raises(LimitExceeded):
        campaigns.update(ctx, admin, project, paused["Id"], {"IsPaused": False})
    assert campaigns.update(ctx, admin, project, paused["Id"], {"Name": "still paused"})["Version"] == 2


class _HeadHandler(http.server.BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, dict[str, str]]] = {}

    def do_HEAD(self):  # noqa: N802 - the http.server naming
        status, headers = self.answers.get(self.path, (404, {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def head_server():
    """A loopback web service answering HEAD as each test arranges (path → status and headers)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HeadHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _HeadHandler.answers
    server.shutdown()
    server.server_close()
    _HeadHandler.answers.clear()


def test_web_urls_pass_the_head_check(ctx, admin, ready, head_server):
    project, segment_id = ready
    base, answers = head_server
    account = admin.account_id
    answers.update({"/good": (200, {"X-Amz-Pinpoint-AccountId": account}),
                    "/other": (200, {"X-Amz-Pinpoint-AccountId": "999999999999"}),
                    "/bare": (200, {}), "/moved": (301, {"Location": f"{base}/good"})})

    def custom(path: str) -> dict:
        return _request(segment_id, MessageConfiguration={"CustomMessage": {"Data": "{}"}},
                        CustomDeliveryConfiguration={"DeliveryUri": f"{base}{path}", "EndpointTypes": ["EMAIL"]})

    created = campaigns.create(ctx, admin, project, custom("/good"))
    assert created["CustomDeliveryConfiguration"]["DeliveryUri"] == f"{base}/good"
    with pytest.raises(InvalidInput, match="not this project's account id") as caught:
        campaigns.create(ctx, admin, project, custom("/other"))
    assert caught.value.field == "CustomDeliveryConfiguration.DeliveryUri"
    # A missing header, a redirect and no answer at all are refused alike, naming no status or error,
    # so the check cannot tell a tenant what answers on the server's networks.
    refusals = []
    for request in (custom("/bare"), custom("/moved"),
                    _request(segment_id, Hook={"WebUrl": "http://127.0.0.1:9/f"})):
        with pytest.raises(InvalidInput, match=f"with the header X-Amz-Pinpoint-AccountId: {account}") as caught:
            campaigns.create(ctx, admin, project, request)
        refusals.append((caught.value.field, caught.value.message.split(": ", 1)[1].split(" must ", 1)[1]))
    assert [field for field, _ in refusals] == ["CustomDeliveryConfiguration.DeliveryUri"] * 2 + ["Hook.WebUrl"]
    assert len({words for _, words in refusals}) == 1
    # (the account id, which the words name, is random and may itself hold "301" or "200")
    assert not any(code in words.replace(account, "") for _, words in refusals
                   for code in ("301", "200", "refused", "Errno"))
    hooked = campaigns.update(ctx, admin, project, created["Id"], {"Hook": {"WebUrl": f"{base}/good"}})
    assert hooked["Hook"] == {"Mode": "FILTER", "WebUrl": f"{base}/good"}


def _activity(campaign_id: str, project_id: str, run: int, treatment: str, state: str) -> dict:
    return {"id": f"{campaign_id[:20]}{run:04d}{treatment}".ljust(32, "0")[:32], "campaign_id": campaign_id,
            "project_id": project_id, "run": run, "treatment_id": treatment, "campaign_version": 1, "state": state,
            "scheduled_at": 1_800_000_000.0 + run, "started_at": 1_800_000_001.0 + run, "ended_at": None,
            "counts": {"TotalEndpointCount": 4, "SuccessfulEndpointCount": 3,
                       "ExecutionMetrics": {"ENDPOINT_OPT_OUT": 1}}, "result": None}


def test_activities_page_and_deleting_cancels_the_open_ones(ctx, admin, ready):
    project, segment_id = ready
    campaign_id = campaigns.create(ctx, admin, project, _request(segment_id))["Id"]
    with ctx.db.write() as conn:
        activity_store.add(conn, {**_activity(campaign_id, project, 1, "0", "COMPLETED"), "ended_at": 1.8e9 + 9,
                                  "result": "SUCCESS"})
        activity_store.add(conn, _activity(campaign_id, project, 2, "0", "RUNNING"))
        activity_store.add(conn, _activity(campaign_id, project, 2, "1", "PENDING"))
    first = campaigns.activities_page(ctx, admin, project, campaign_id, "2", None)
    assert [(a["TreatmentId"], a["State"]) for a in first["Item"]] == [("0", "COMPLETED"), ("0", "RUNNING")]
    assert first["Item"][0] == {**first["Item"][0], "CampaignId": campaign_id, "ApplicationId": project,
                                "Result": "SUCCESS", "ScheduledStart": "2027-01-15T08:00:01.000Z",
                                "End": "2027-01-15T08:00:09.000Z", "TotalEndpointCount": 4,
                                "SuccessfulEndpointCount": 3, "ExecutionMetrics": {"ENDPOINT_OPT_OUT": "1"}}
    rest = campaigns.activities_page(ctx, admin, project, campaign_id, "2", first["NextToken"])
    assert [(a["TreatmentId"], a["State"]) for a in rest["Item"]] == [("1", "PENDING")] and "NextToken" not in rest
    campaigns.delete(ctx, admin, project, campaign_id)
    with ctx.db.read() as conn:
        left = activity_store.of_campaign(conn, campaign_id)
    assert [row["state"] for row in left] == ["COMPLETED", "CANCELLED", "CANCELLED"]
    assert all(row["ended_at"] for row in left)


def test_a_campaign_whose_segment_was_deleted_shows_deleted(ctx, admin, ready):
    project, segment_id = ready
    campaign_id = campaigns.create(ctx, admin, project, _request(segment_id))["Id"]
    segments.delete(ctx, admin, project, segment_id)
    assert campaigns.get(ctx, admin, project, campaign_id)["State"] == {"CampaignStatus": "DELETED"}


def test_deleting_the_project_deletes_its_campaigns(ctx, admin, ready):
    project, segment_id = ready
    created = campaigns.create(ctx, admin, project, _request(segment_id))
    with ctx.db.write() as conn:
        activity_store.add(conn, _activity(created["Id"], project, 1, "0", "RUNNING"))
    onboarding.delete_project(ctx, admin, project)
    with ctx.db.read() as conn:
        assert campaign_store.get_by_id(conn, created["Id"]) is None
        assert campaign_store.get_version(conn, created["Id"], 1) is None
        assert activity_store.of_campaign(conn, created["Id"]) == []
        assert tag_store.get_tags(conn, created["Arn"]) == {}


# --- tenancy ------------------------------------------------------------------------------------------

def _tenants(ctx, model: str):
    admin = operator(ctx)
    (a_row, a), (b_row, b) = onboard(ctx, admin, "tenant-a", model), onboard(ctx, admin, "tenant-b", model)
    for row in (a_row, b_row):
        _email_channel(ctx, admin, row["project_id"])
    return admin, (a_row, a), (b_row, b)


def test_sa_sp_campaigns_belong_to_their_tenant(ctx):
    admin, (a_row, a), (_b_row, b) = _tenants(ctx, "sa-sp")
    project = a_row["project_id"]
    a_segment, b_segment = _segment(ctx, a, project, "a"), _segment(ctx, b, project, "b")
    made = campaigns.create(ctx, a, project, _request(a_segment, tags={"team": "x"}))
    assert made["tags"] == {"team": "x", "tenant": "tenant-a"}
    with ctx.db.read() as conn:
        assert campaign_store.get(conn, project, made["Id"])["tenant_id"] == "tenant-a"
    with pytest.raises(InvalidInput, match="does not exist"):  # B's segment is out of A's reach
        campaigns.create(ctx, a, project, _request(b_segment))
    templates.create(ctx, b, "b-only", "EMAIL", {"Subject": "B", "HtmlPart": "<p>b</p>"})
    with pytest.raises(InvalidInput, match="does not exist"):
        campaigns.create(ctx, a, project, _request(a_segment, MessageConfiguration=None, TemplateConfiguration={
            "EmailTemplate": {"Name": "b-only"}}))
    with pytest.raises(PinfoldError, match="tenant"):
        tags.tag(ctx, a, made["Arn"], {"tenant": "tenant-b"})
    assert [c["Id"] for c in campaigns.list_page(ctx, b, project, None, None)["Item"]] == []
    account = segments.operator_view(ctx, admin, project)  # the shared account's administrator sees all
    assert [c["Id"] for c in campaigns.list_page(ctx, account, project, None, None)["Item"]] == [made["Id"]]
    campaigns.create(ctx, b, project, _request(b_segment))
    removed = onboarding.offboard(ctx, admin, "tenant-a")["removed"]
    assert removed["campaigns"] == 1
    with pytest.raises(NotFound):
        campaigns.get(ctx, account, project, made["Id"])
    assert len(campaigns.list_page(ctx, b, project, None, None)["Item"]) == 1


def _attempt(ctx, caller, project_id: str, campaign_id: str, arn: str, kind: str) -> object:
    if kind == "get":
        return campaigns.get(ctx, caller, project_id, campaign_id)
    if kind == "version":
        return campaigns.get(ctx, caller, project_id, campaign_id, 1)
    if kind == "versions":
        return campaigns.versions_page(ctx, caller, project_id, campaign_id, None, None)
    if kind == "activities":
        return campaigns.activities_page(ctx, caller, project_id, campaign_id, None, None)
    if kind == "update":
        return campaigns.update(ctx, caller, project_id, campaign_id, {"Name": "taken over", "IsPaused": True})
    if kind == "delete":
        return campaigns.delete(ctx, caller, project_id, campaign_id)
    if kind == "tag":
        return tags.tag(ctx, caller, arn, {"owner": "b"})
    if kind == "untag":
        return tags.untag(ctx, caller, arn, ["team"])
    if kind == "list_tags":
        return tags.list_tags(ctx, caller, arn)
    return campaigns.list_page(ctx, caller, project_id, None, None)


ATTEMPTS = ["get", "version", "versions", "activities", "update", "delete", "tag", "untag", "list_tags", "list"]


@pytest.fixture(params=["sa-sp", "sa-mp", "ma-mp"])
def two_tenants(request, ctx):
    admin, (a_row, a), (b_row, b) = _tenants(ctx, request.param)
    made = campaigns.create(ctx, a, a_row["project_id"], _request(_segment(ctx, a, a_row["project_id"]),
                                                                  tags={"team": "a"}))
    return (a_row, a), (b_row, b), made


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(attempts=st.lists(st.tuples(st.sampled_from(ATTEMPTS), st.booleans()), min_size=1, max_size=5))
def test_a_tenant_never_sees_or_changes_another_tenants_campaigns(ctx, two_tenants, attempts):
    (a_row, a), (b_row, b), made = two_tenants
    before = campaigns.get(ctx, a, a_row["project_id"], made["Id"])
    for kind, in_own_project in attempts:
        project_id = b_row["project_id"] if in_own_project else a_row["project_id"]
        try:
            result = _attempt(ctx, b, project_id, made["Id"], made["Arn"], kind)
        except PinfoldError as error:
            assert error.code == "not_found", error.message  # absent, never "forbidden"
            assert "tenant-a" not in error.message
            continue
        assert kind == "list", kind  # only listing B's own reach succeeds, and shows none of A's
        assert made["Id"] not in {item["Id"] for item in result["Item"]}
    assert campaigns.get(ctx, a, a_row["project_id"], made["Id"]) == before

"""The admin API under bad input and tenant keys: 4xx (never 5xx), bounded pages, and who may call what."""

from __future__ import annotations

import pytest

from tests.conftest import admin_request, make_client, onboard


@pytest.fixture(scope="module")
def tenant(server) -> dict:
    return onboard(server, "sa-mp")


@pytest.mark.parametrize("since", ["0001-01-01", "99999999999999d", "9999999999w", "400d", "not-a-date"])
def test_kpis_refuse_an_unbounded_or_overflowing_window(server, tenant, since):
    for creds in (tenant["credentials"], server.admin):
        response = admin_request(server, creds, "GET", f"/admin/v1/analytics/kpis?since={since}")
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_input" and "since" in response.json()["error"]["message"]


def test_kpis_within_the_window_answer_every_day(server, tenant):
    response = admin_request(server, tenant["credentials"], "GET", "/admin/v1/analytics/kpis?since=366d")
    assert response.status_code == 200 and len(response.json()["days"]) in (367, 368)


@pytest.mark.parametrize("cap", [2**63, 2**31, 0, -1])
def test_project_cap_out_of_range_is_a_4xx(server, cap):
    account = admin_request(server, server.admin, "GET", "/admin/v1/accounts").json()[0]["id"]
    response = admin_request(server, server.admin, "PUT", f"/admin/v1/accounts/{account}/project-cap", {"cap": cap})
    assert response.status_code == 400 and "cap" in response.json()["error"]["message"], response.text


@pytest.mark.parametrize("sql", [";", "  ", "-- nothing", "SELEC 1"])
def test_operator_sql_without_a_statement_or_with_a_syntax_error_is_not_a_5xx(server, sql):
    response = admin_request(server, server.admin, "POST", "/admin/v1/analytics/sql", {"sql": sql})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json() == {"columns": [], "rows": [], "truncated": False}


def test_segment_size_of_a_missing_version_is_404(server):
    client = make_client(server, server.admin)
    app_id = client.create_app(CreateApplicationRequest={"Name": "sizes"})["ApplicationResponse"]["Id"]
    segment = client.create_segment(ApplicationId=app_id, WriteSegmentRequest={
        "Name": "all", "Dimensions": {"Demographic": {"Channel": {"Values": ["EMAIL"]}}}})["SegmentResponse"]["Id"]
    path = f"/admin/v1/projects/{app_id}/segments/{segment}/size"
    assert admin_request(server, server.admin, "GET", f"{path}?version=1").json() == {"size": 0}
    missing = admin_request(server, server.admin, "GET", f"{path}?version=99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    for version in ("0", "99999999999999999999", "%C2%B2"):
        refused = admin_request(server, server.admin, "GET", f"{path}?version={version}")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_input", refused.text
        assert refused.json()["error"]["message"].startswith("query.version:")


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/admin/v1/tenants", {"tenant_id": "nul", "model": "sa-mp", "name": "a\u0000b"}),
    ("POST", "/admin/v1/tenants", {"tenant_id": "nul2", "model": "sa-mp", "metadata": {"k\u0000": 1}}),
    ("GET", "/admin/v1/tenants?status=%00", None),
    ("GET", "/admin/v1/tenants/a%00b", None),
])
def test_nul_characters_are_refused_with_400(server, method, path, body):
    response = admin_request(server, server.admin, method, path, body)
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["error"]["message"]


def test_tenant_and_account_lists_are_paged(server):
    ids = {onboard(server, "ma-mp")["tenant"]["tenant_id"] for _ in range(3)}
    seen, token, pages = [], None, 0
    while True:
        query = "?model=ma-mp&limit=2" + (f"&next_token={token}" if token else "")
        response = admin_request(server, server.admin, "GET", f"/admin/v1/tenants{query}")
        assert response.status_code == 200 and len(response.json()) <= 2
        seen += [item["tenant_id"] for item in response.json()]
        pages += 1
        token = response.headers.get("x-pinfold-next-token")
        if not token:
            break
    assert ids <= set(seen) and len(seen) == len(set(seen)) and pages >= 2
    accounts = admin_request(server, server.admin, "GET", "/admin/v1/accounts?limit=1")
    assert len(accounts.json()) == 1 and accounts.headers["x-pinfold-next-token"] == "1"
    for bad in ("limit=0", "limit=1001", "next_token=x", "next_token=-1"):
        refused = admin_request(server, server.admin, "GET", f"/admin/v1/tenants?{bad}")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_input", refused.text


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/admin/v1/tenants", None),
    ("GET", "/admin/v1/accounts", None),
    ("PUT", "/admin/v1/accounts/123456789012/project-cap", {"cap": 5}),
    ("POST", "/admin/v1/access-keys", {"scope": "organization"}),
    ("POST", "/admin/v1/analytics/sql", {"sql": "SELECT 1"}),
    ("GET", "/admin/v1/projects/p/segments/s/size", None),
])
def test_tenant_keys_are_refused_on_operator_routes(server, tenant, method, path, body):
    response = admin_request(server, tenant["credentials"], method, path, body)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden", response.text


def test_tenant_keys_read_the_named_views_and_their_kpis(server, tenant):
    creds = tenant["credentials"]
    assert admin_request(server, creds, "GET", "/admin/v1/analytics/views").status_code == 200
    assert admin_request(server, creds, "GET", "/admin/v1/analytics/views/all_events?limit=5").status_code == 200
    assert admin_request(server, creds, "GET", "/admin/v1/analytics/kpis?since=7d").status_code == 200


def test_swagger_ui_is_served_from_pinfold_itself(server):
    import re

    import httpx

    page = httpx.get(f"{server.url}/admin/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls and all(url.startswith("/admin/") for url in urls), urls
    assert "http://" not in page.text and "https://" not in page.text
    for url in urls:
        asset = httpx.get(f"{server.url}{url}")
        assert asset.status_code == 200 and len(asset.content) > 100, url
    assert "javascript" in httpx.get(f"{server.url}/admin/docs/assets/swagger-ui-bundle.js").headers["content-type"]
    assert "text/css" in httpx.get(f"{server.url}/admin/docs/assets/swagger-ui.css").headers["content-type"]


def test_a_tenant_cannot_be_placed_in_a_region_that_is_not_served(server):
    response = admin_request(server, server.admin, "POST", "/admin/v1/tenants",
                             {"tenant_id": "elsewhere", "model": "ma-mp", "region": "xx-fake-1"})
    assert response.status_code == 400 and "xx-fake-1" in response.json()["error"]["message"]
    assert admin_request(server, server.admin, "GET", "/admin/v1/tenants/elsewhere").status_code == 404


def test_an_sa_sp_tenant_with_its_own_push_credentials_is_refused_naming_the_other_models(server):
    response = admin_request(server, server.admin, "POST", "/admin/v1/tenants",
                             {"tenant_id": "own-app-keys", "model": "sa-sp", "own_push_credentials": True})
    assert response.status_code == 400 and "sa-mp or ma-mp" in response.json()["error"]["message"]
    assert admin_request(server, server.admin, "GET", "/admin/v1/tenants/own-app-keys").status_code == 404


def test_unknown_admin_routes_and_methods_answer_in_the_admin_shape(server):
    missing = admin_request(server, server.admin, "GET", "/admin/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = admin_request(server, server.admin, "DELETE", "/admin/v1/tenants")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    broken = httpx_post_invalid_json(server)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_input"


def httpx_post_invalid_json(server):
    """A signed POST whose body is not JSON at all."""
    import httpx
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=f"{server.url}/admin/v1/tenants", data=b"{not json",
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(server.admin["aws_access_key_id"], server.admin["aws_secret_access_key"]), "pinfold",
              server.admin["region"]).add_auth(request)
    return httpx.post(request.url, headers=dict(request.headers), content=b"{not json")

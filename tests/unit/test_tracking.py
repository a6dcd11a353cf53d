"""Tracking tokens, HTML instrumentation and the /t/ routes (through Starlette's TestClient)."""

from __future__ import annotations

import re
import time

import pytest
from starlette.testclient import TestClient

from pinfold.api.tracking import PIXEL_GIF, tracking_routes
from pinfold.core.errors import InvalidInput
from pinfold.email.rules.tracking import instrument_html, make_token, read_token, unsubscribe_url

KEY = b"k" * 32
MID = "0100018f-a1b2c3d4-77aa-4c1e-9e51-5b0f3c6d2e10-000000"
BASE = "https://track.pinfold.test"


# --- tokens -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "link"), [("open", None), ("click", 0), ("click", 41), ("unsubscribe", None)])
def test_tokens_round_trip_and_are_url_safe(kind, link):
    token = make_token(KEY, MID, kind, link)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", token)
    assert read_token(KEY, token) == (MID, kind, link)


def test_tokens_differ_by_kind_link_and_key():
    tokens = {make_token(KEY, MID, "open"), make_token(KEY, MID, "unsubscribe"), make_token(KEY, MID, "click", 1),
              make_token(KEY, MID, "click", 2), make_token(b"other-key", MID, "open")}
    assert len(tokens) == 5


def forgeries(token: str) -> list[str]:
    body, _, signature = token.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return [
        f"{body}.{flipped}",  # tampered signature
        token.replace("c3.", "c4.", 1),  # another link, same signature
        token.replace(MID, MID[:-1] + "1"),  # another message, same signature
        "u" + token[2:],  # turned into an unsubscribe
        token + "x", token[:-1], "", "c3." + MID, "garbage", "c3." + MID + "." + "A" * 22,
    ]


def test_forged_or_mangled_tokens_are_refused():
    token = make_token(KEY, MID, "click", 3)
    for forged in forgeries(token):
        with pytest.raises(InvalidInput):
            read_token(KEY, forged)
    with pytest.raises(InvalidInput):
        read_token(b"another key", token)


def test_make_token_refuses_what_it_cannot_sign():
    for args in [(KEY, "bad id!", "open", None), (KEY, MID, "click", None), (KEY, MID, "open", 1),
                 (KEY, MID, "bounce", None), (b"", MID, "open", None), (KEY, MID, "click", -1)]:
        with pytest.raises(InvalidInput):
            make_token(*args)


def test_unsubscribe_url():
    url = unsubscribe_url(BASE + "/", KEY, MID)
    assert url.startswith(f"{BASE}/t/u/")
    assert read_token(KEY, url.rsplit("/", 1)[1]) == (MID, "unsubscribe", None)


# --- instrumentation ----------------------------------------------------------------------------

HTML = """<html><head><title>Offers</title></head><body>
<p>Hi! <a href="https://shop.example/offers?a=1&amp;b=2">See offers</a>
<a class="btn" href='http://shop.example/plain' title="a > b">Plain</a>
<a href=https://shop.example/bare>Bare</a>
<a href="mailto:help@shop.example">Mail us</a> <a href="tel:+15555550100">Call</a>
<a href="#top">Top</a> <a href="/relative">Relative</a> <a name="anchor">Named</a>
<a href="https://shop.example/private" ses:no-track>Private</a>
<A HREF="HTTPS://SHOP.EXAMPLE/UPPER">Upper</A> <abbr title="x">abbr</abbr>
</p></BODY></html>"""


def test_links_are_rewritten_and_numbered():
    out, links = instrument_html(HTML, base_url=BASE, key=KEY, message_id=MID, opens=False, clicks=True)
    assert links == ["https://shop.example/offers?a=1&b=2", "http://shop.example/plain", "https://shop.example/bare",
                     "HTTPS://SHOP.EXAMPLE/UPPER"]
    hrefs = re.findall(r"""href\s*=\s*["']?([^"'\s>]+)""", out, re.IGNORECASE)
    tracked = [h for h in hrefs if h.startswith(f"{BASE}/t/c/")]
    assert [read_token(KEY, h.rsplit("/", 1)[1]) for h in tracked] == [(MID, "click", n) for n in range(4)]
    for kept in ("mailto:help@shop.example", "tel:+15555550100", "#top", "/relative",
                 "https://shop.example/private"):
        assert kept in hrefs
    assert 'class="btn"' in out and 'title="a > b"' in out and "<img" not in out


def test_open_pixel_goes_before_the_closing_body_tag_or_at_the_end():
    out, links = instrument_html(HTML, base_url=BASE, key=KEY, message_id=MID, opens=True, clicks=False)
    assert links == [] and "https://shop.example/offers?a=1&amp;b=2" in out
    pixel = re.search(r'<img src="([^"]+)"[^>]*>', out)
    assert pixel and out.index(pixel.group(0)) == out.index("</BODY>") - len(pixel.group(0))
    assert read_token(KEY, pixel.group(1).rsplit("/", 1)[1]) == (MID, "open", None)
    fragment, _ = instrument_html("<p>no body</p>", base_url=BASE, key=KEY, message_id=MID, opens=True, clicks=True)
    assert fragment.startswith("<p>no body</p><img ")


def test_nothing_changes_when_tracking_is_off():
    assert instrument_html(HTML, base_url=BASE, key=KEY, message_id=MID, opens=False, clicks=False) == (HTML, [])


def test_instrumenting_a_3kb_message_with_10_links_is_well_under_a_millisecond():
    links = "".join(f'<p>Item {i} <a href="https://shop.example/item/{i}?utm=mail">view</a></p>\n' for i in range(10))
    page = "<html><body>" + links + "<p>" + "lorem ipsum " * 180 + "</p></body></html>"
    assert 2_500 < len(page) < 4_000
    runs = 200
    started = time.perf_counter()
    for _ in range(runs):
        _, found = instrument_html(page, base_url=BASE, key=KEY, message_id=MID, opens=True, clicks=True)
    per_call = (time.perf_counter() - started) / runs
    assert len(found) == 10
    assert per_call < 0.0005, f"{per_call * 1e6:.0f} us per message"


# --- routes -------------------------------------------------------------------------------------


class Calls:
    def __init__(self, links: dict[tuple[str, int], str]) -> None:
        self.links = links
        self.recorded: list[tuple] = []
        self.fail = False

    def resolve_link(self, message_id: str, index: int) -> str | None:
        return self.links.get((message_id, index))

    def record(self, kind, message_id, link, user_agent, ip) -> None:
        if self.fail:
            raise RuntimeError("database down")
        self.recorded.append((kind, message_id, link, user_agent, ip))


@pytest.fixture
def calls():
    return Calls({(MID, 0): "https://shop.example/offers?a=1&b=2", (MID, 1): "javascript:alert(1)"})


@pytest.fixture
def client(calls):
    app = tracking_routes(KEY, calls.resolve_link, calls.record)
    return TestClient(app, raise_server_exceptions=False, headers={"User-Agent": "Mail/1.0"})


def test_open_pixel(client, calls):
    response = client.get(f"/t/o/{make_token(KEY, MID, 'open')}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    assert response.content == PIXEL_GIF and len(PIXEL_GIF) == 43 and PIXEL_GIF[6:10] == b"\x01\x00\x01\x00"
    assert "no-store" in response.headers["cache-control"]
    assert calls.recorded == [("open", MID, None, "Mail/1.0", "testclient")]
    client.head(f"/t/o/{make_token(KEY, MID, 'open')}")
    assert len(calls.recorded) == 1  # a HEAD prefetch is not an open


def test_click_redirects_to_the_original_link(client, calls):
    response = client.get(f"/t/c/{make_token(KEY, MID, 'click', 0)}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "https://shop.example/offers?a=1&b=2"
    assert calls.recorded == [("click", MID, "https://shop.example/offers?a=1&b=2", "Mail/1.0", "testclient")]


def test_recording_failures_do_not_break_opens_or_clicks(client, calls):
    calls.fail = True
    assert client.get(f"/t/o/{make_token(KEY, MID, 'open')}").status_code == 200
    assert client.get(f"/t/c/{make_token(KEY, MID, 'click', 0)}", follow_redirects=False).status_code == 302


def test_unknown_links_and_non_http_targets_are_404(client, calls):
    assert client.get(f"/t/c/{make_token(KEY, MID, 'click', 7)}", follow_redirects=False).status_code == 404
    assert client.get(f"/t/c/{make_token(KEY, MID, 'click', 1)}", follow_redirects=False).status_code == 404
    assert calls.recorded == []


def test_bad_and_misrouted_tokens_are_404(client, calls):
    click = make_token(KEY, MID, "click", 0)
    for path in [f"/t/o/{click}", f"/t/u/{click}", f"/t/c/{make_token(KEY, MID, 'open')}",
                 f"/t/c/{make_token(b'other', MID, 'click', 0)}", "/t/o/garbage", "/t/c/" + forgeries(click)[0]]:
        assert client.get(path, follow_redirects=False).status_code == 404, path
    assert client.post(f"/t/u/{click}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert calls.recorded == []


def test_get_unsubscribe_only_shows_a_form(client, calls):
    path = f"/t/u/{make_token(KEY, MID, 'unsubscribe')}"
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'<form method="post" action="{path}">' in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert calls.recorded == []


def test_one_click_unsubscribe_post(client, calls):
    path = f"/t/u/{make_token(KEY, MID, 'unsubscribe')}"
    assert client.post(path, content=b"List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 200
    assert client.post(path, files={"List-Unsubscribe": (None, "One-Click")}).status_code == 200
    assert client.post(path, data={"something": "else"}).status_code == 400
    assert [r[:3] for r in calls.recorded] == [("unsubscribe", MID, None)] * 2


def test_a_failed_unsubscribe_is_a_server_error_so_it_is_retried(client, calls):
    calls.fail = True
    path = f"/t/u/{make_token(KEY, MID, 'unsubscribe')}"
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 500

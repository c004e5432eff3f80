"""The news sources on saved content (tests/news/), and fetched over real HTTP from a local
server: timeouts, errors, the user agent, tokens kept out of messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT

from tradekit.news.model import SourceError
from tradekit.news.settings import SourceSettings
from tradekit.news.sources import fetch
from tradekit.news.sources.blockbeats import parse_newsflash
from tradekit.news.sources.feeds import parse_feed
from tradekit.news.sources.jsonapi import parse_json_api, parse_time

SAVED = ROOT / "tests" / "news"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def source(**fields: Any) -> SourceSettings:
    return SourceSettings.model_validate(
        {"name": "src", "kind": "rss", "url": "http://127.0.0.1:9/x", **fields}
    )


# -- the newsflash page -------------------------------------------------------------------------


def test_newsflash_items_with_their_date_and_the_pages_time_zone() -> None:
    page = (SAVED / "blockbeats-newsflash.html").read_text()
    got = parse_newsflash(page, "bb", "https://www.theblockbeats.info/newsflash", SHANGHAI)
    assert got.problems == []
    assert [(i.id, i.published_ms, i.title[:6], i.url) for i in got.items] == [
        ("bb:330011", ms("2026-02-19T17:35:00+00:00"), "比特币跌破6",
         "https://www.theblockbeats.info/flash/330011"),
        ("bb:330010", ms("2026-02-19T17:20:00+00:00"), "贝莱德比特币",
         "https://www.theblockbeats.info/flash/330010"),
        ("bb:330009", ms("2026-02-19T16:58:00+00:00"), "以太坊Pec",
         "https://www.theblockbeats.info/flash/330009"),
        ("bb:330008", ms("2026-02-19T15:40:00+00:00"), "美联储理事：",
         "https://www.theblockbeats.info/flash/330008"),
        ("bb:330007", ms("2026-02-19T14:15:00+00:00"), "某DeFi协",
         "https://www.theblockbeats.info/flash/330007"),
    ]  # fmt: skip
    assert got.items[3].title.endswith("加密市场关注降息路径 & 美元走势")  # entities decoded


def test_the_page_time_zone_is_a_setting_not_an_assumption() -> None:
    page = (SAVED / "blockbeats-newsflash.html").read_text()
    utc = parse_newsflash(page, "bb", "https://x/newsflash", ZoneInfo("UTC"))
    assert utc.items[0].published_ms == ms("2026-02-20T01:35:00+00:00")


def test_a_changed_layout_is_a_source_error_naming_it() -> None:
    page = (SAVED / "blockbeats-changed-layout.html").read_text()
    with pytest.raises(SourceError, match="the page layout may have changed"):
        parse_newsflash(page, "bb", "https://x/newsflash", SHANGHAI)


def test_a_flash_without_a_date_before_it_is_a_problem_the_rest_kept() -> None:
    page = '<a href="/flash/1">10:00 no date yet</a> 2026-02-19 <a href="/flash/2">11:00 dated</a>'
    got = parse_newsflash(page, "bb", "https://x/", ZoneInfo("UTC"))
    assert [i.id for i in got.items] == ["bb:2"]
    assert got.problems == ["flash 1 'no date yet': no date before it; skipped"]


# -- RSS and Atom -------------------------------------------------------------------------------


def test_rss_items_and_an_undated_one_reported() -> None:
    got = parse_feed((SAVED / "coindesk.rss").read_bytes(), "coindesk")
    assert [(i.id, i.published_ms) for i in got.items] == [
        ("coindesk:a1b2c3d4-0001", ms("2026-02-19T17:45:00+00:00")),
        ("coindesk:a1b2c3d4-0002", ms("2026-02-19T16:10:00+00:00")),
        ("coindesk:https://www.coindesk.com/tech/2026/02/19/solana-post-mortem",
         ms("2026-02-19T14:00:00+00:00")),
    ]  # fmt: skip
    assert got.items[0].title == "Bitcoin Slides Below $65K as Liquidations Top $300M"
    assert got.problems == ["entry 3 'An item the feed forgot to date': no time; skipped"]


def test_atom_entries_published_or_updated() -> None:
    got = parse_feed((SAVED / "theblock.atom").read_bytes(), "theblock")
    assert [(i.title, i.published_ms, i.url) for i in got.items] == [
        ("SEC approves options on spot bitcoin ETFs", ms("2026-02-19T17:58:00+00:00"),
         "https://www.theblock.co/post/300001"),
        ("Grayscale files for new Ethereum staking product", ms("2026-02-19T14:00:00+00:00"),
         "https://www.theblock.co/post/300002"),
    ]  # fmt: skip


def test_a_broken_feed_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not a usable RSS/Atom feed"):
        parse_feed((SAVED / "broken.rss").read_bytes(), "broken")
    with pytest.raises(SourceError, match="not a usable RSS/Atom feed"):
        parse_feed(b"<html><body>503 Service Unavailable</body></html>", "broken")


# -- the JSON API and the JSONL file ------------------------------------------------------------


def test_json_api_items_and_an_item_without_a_time() -> None:
    got = parse_json_api((SAVED / "cryptopanic.json").read_bytes(), source(name="cp"))
    assert [(i.id, i.published_ms) for i in got.items] == [
        ("cp:9001", ms("2026-02-19T17:30:00+00:00")),
        ("cp:9002", ms("2026-02-19T17:40:00+00:00")),
        ("cp:9004", 1771522800000),
    ]
    assert got.problems == ["item 3 'An item without a time': published_at: no time; skipped"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "the answer is not JSON"),
        (b'{"data": []}', "no 'results' list in the answer"),
        (b'{"results": {"a": 1}}', "'results' is not a list"),
    ],
)
def test_json_api_answers_that_are_not_news(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_json_api(body, source())


def test_times_need_a_zone_or_an_epoch() -> None:
    assert parse_time("2026-02-19T17:30:00Z") == ms("2026-02-19T17:30:00+00:00")
    assert parse_time(1771522800) == parse_time(1771522800000) == 1771522800000
    for bad, why in (("2026-02-19 17:30", "no time zone"), ("soon", "not a time"), (True, "not a")):
        with pytest.raises(ValueError, match=why):
            parse_time(bad)


def test_jsonl_file_with_bad_lines_named_by_number(tmp_path: Path) -> None:
    path = tmp_path / "desk.jsonl"
    path.write_text(
        '{"id": 1, "title": "BTC breaks above 70k", "publishedAt": "2026-02-19T17:00:00Z"}\n'
        "not json\n"
        '{"id": 2, "title": "no time"}\n'
        '{"title": "no id", "publishedAt": 1771520400000}\n'
    )
    got = fetch(source(name="desk", kind="jsonl", url=str(path)), {})
    assert [(i.id, i.title) for i in got.items] == [("desk:1", "BTC breaks above 70k")]
    assert got.problems == [
        "desk.jsonl:2: invalid JSON: Expecting value: line 1 column 1 (char 0); skipped",
        "desk.jsonl:3: publishedAt: no time; skipped",
        "desk.jsonl:4: no title or id; skipped",
    ]
    with pytest.raises(SourceError, match="cannot read"):
        fetch(source(name="desk", kind="jsonl", url=str(tmp_path / "missing.jsonl")), {})


# -- over HTTP ----------------------------------------------------------------------------------


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.redirects: dict[str, str] = {}
        self.seen: list[dict[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.seen.append({"path": self.path, **dict(self.headers.items())})
                path = self.path.split("?")[0]
                if path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path == "/trickle":  # a byte every 0.1 s, for 30 s: never a read timeout
                    self.send_response(200)
                    self.send_header("Content-Length", "300")
                    self.end_headers()
                    try:
                        for _ in range(300):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                status, body, delay = site.routes.get(path, (404, b"", 0))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except BrokenPipeError:
                    pass  # the client gave up (the timeout test)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    yield served
    served.httpd.shutdown()
    served.httpd.server_close()


def test_fetched_over_http_with_a_polite_user_agent(site: Site) -> None:
    site.routes["/newsflash"] = (200, (SAVED / "blockbeats-newsflash.html").read_bytes(), 0)
    got = fetch(source(name="bb", kind="blockbeats", url=site.url + "/newsflash"), {})
    assert len(got.items) == 5 and got.items[0].url == site.url + "/flash/330011"
    assert site.seen[0]["User-Agent"].startswith("tradekit/")


def test_http_errors_and_timeouts_are_source_errors(site: Site) -> None:
    site.routes["/slow"] = (200, b"", 2.0)
    with pytest.raises(SourceError, match=r"fetch failed: HTTP 404 from http://127\.0\.0\.1"):
        fetch(source(url=site.url + "/gone"), {})
    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out"):
        fetch(source(url=site.url + "/slow", timeout_seconds=0.3), {})
    assert time.monotonic() - started < 1.5


def test_the_api_token_comes_from_the_environment_and_never_shows(site: Site) -> None:
    site.routes["/api"] = (200, (SAVED / "cryptopanic.json").read_bytes(), 0)
    api = source(kind="json_api", url=site.url + "/api?public=true", token_env="CP_TOKEN",
                 token_param="auth_token")  # fmt: skip
    with pytest.raises(SourceError, match="CP_TOKEN"):
        fetch(api, {})
    got = fetch(api, {"CP_TOKEN": "s3cr3t-token-value"})
    assert len(got.items) == 3 and "auth_token=s3cr3t-token-value" in site.seen[-1]["path"]
    bearer = source(kind="json_api", url=site.url + "/api", token_env="CP_TOKEN")
    fetch(bearer, {"CP_TOKEN": "s3cr3t-token-value"})
    assert site.seen[-1]["Authorization"] == "Bearer s3cr3t-token-value"
    missing = source(kind="json_api", url=site.url + "/nope?auth_token=x", token_env="CP_TOKEN",
                     token_param="auth_token")  # fmt: skip
    with pytest.raises(SourceError) as failed:
        fetch(missing, {"CP_TOKEN": "s3cr3t-token-value"})
    assert "s3cr3t" not in str(failed.value) and "auth_token" not in str(failed.value)


def test_a_published_time_is_kept_in_utc() -> None:
    assert datetime.fromtimestamp(parse_time("2026-02-19T18:00:00+08:00") / 1000, UTC).hour == 10


def test_the_timeout_is_a_deadline_for_the_whole_answer(site: Site) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"took longer than 0\.5 s"):
        fetch(source(url=site.url + "/trickle", timeout_seconds=0.5), {})
    assert time.monotonic() - started < 2


def test_a_malformed_url_is_a_source_error_that_never_shows_the_token(site: Site) -> None:
    api = source(kind="json_api", url=site.url + "/crypto panic.json?public=true",
                 token_env="NEWSAPI_AUTH", token_param="auth_token")  # fmt: skip
    with pytest.raises(SourceError) as failed:
        fetch(api, {"NEWSAPI_AUTH": "sekrit123"})
    assert "sekrit123" not in str(failed.value) and "auth_token" not in str(failed.value)
    assert str(failed.value).startswith("fetch failed: http://127.0.0.1:")


def test_a_redirect_to_another_host_drops_the_bearer_token(site: Site) -> None:
    other = Site()
    try:
        other.routes["/api"] = (200, (SAVED / "cryptopanic.json").read_bytes(), 0)
        site.redirects["/api"] = other.url + "/api"
        got = fetch(source(kind="json_api", url=site.url + "/api", token_env="T"), {"T": "tok-1"})
        assert len(got.items) == 3
        assert site.seen[-1]["Authorization"] == "Bearer tok-1"
        assert "Authorization" not in other.seen[-1]
    finally:
        other.httpd.shutdown()
        other.httpd.server_close()


def test_one_broken_source_never_stops_the_others(tmp_path: Path) -> None:
    from tradekit.news.cache import NewsCache
    from tradekit.news.fetching import fetch_all
    from tradekit.news.settings import NewsSettings
    from tradekit.store import Store

    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"id": 1, "title": "BTC inf", "publishedAt": Infinity}\n'
        '{"id": 2, "title": "BTC big", "publishedAt": 100000000000000000000}\n'
        '{"id": 3, "title": "BTC fine", "publishedAt": "2026-02-19T17:00:00Z"}\n'
    )
    settings = NewsSettings.model_validate({"sources": [
        {"name": "bad", "kind": "json_api", "url": "http://127.0.0.1:9/a b?k=1", "token_env": "T",
         "token_param": "k"},
        {"name": "good", "kind": "jsonl", "url": str(good)},
    ]})  # fmt: skip
    with Store(tmp_path / "t.db") as store:
        reports = fetch_all(settings, NewsCache(store), 1771524000000, {"T": "tok-secret"})
    bad, fine = reports
    assert not bad.ok and "tok-secret" not in str(bad.error)
    assert (fine.ok, fine.items) == (True, 1)
    assert fine.problems == [
        "good.jsonl:1: publishedAt: not a time: 'inf'; skipped",
        "good.jsonl:2: publishedAt: not a time: '100000000000000000000'; skipped",
    ]

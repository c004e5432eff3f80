"""tk tg poll and tk tg ls against a local HTTP server serving the saved pages of one channel
(tests/data/telegram/web-preview/): what each page must give (expected.jsonl), the first
poll, new posts, an edit, a delete, older posts behind the cursor, photos, retries, a
changed layout, staleness."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import TEST_DATA, init_home, script
from typer.testing import CliRunner

from tradekit.cli import tg
from tradekit.exitstatus import ExitStatus
from tradekit.store import Store
from tradekit.telegram.follow import Follower
from tradekit.telegram.sources.http import Fetcher, RetryPolicy, SourceUnavailableError
from tradekit.telegram.sources.post import LayoutChangedError, Post
from tradekit.telegram.sources.webpreview import parse_page

PAGES = TEST_DATA / "telegram" / "web-preview"
CDN = "https://cdn.example.invalid"
#: a photo's bytes as the server sends them: a JPEG's magic and something to hash
JPEG = b"\xff\xd8\xff\xe0" + b"chart" * 50


class Channel(ThreadingHTTPServer):
    """/s/SignalDesk is `page`; ?before=N the older page; /file/NAME a photo. `script` is a
    queue of (status, headers, body) answers given before the normal ones."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.page = "page-1.html"
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.photos: dict[str, bytes] = {}
        self.requests: list[str] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def body(self, name: str) -> bytes:
        text = (PAGES / name).read_text(encoding="utf-8")
        return text.replace(CDN, self.base).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    server: Channel
    protocol_version: ClassVar[str] = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        if self.server.script:
            status, headers, body = self.server.script.pop(0)
        elif self.path.startswith("/s/SignalDesk?before="):
            status, headers, body = 200, {}, self.server.body("page-older.html")
        elif self.path == "/s/SignalDesk":
            status, headers, body = 200, {}, self.server.body(self.server.page)
        elif self.path.startswith("/file/") and self.path[6:] in self.server.photos:
            status, headers, body = 200, {}, self.server.photos[self.path[6:]]
        else:
            status, headers, body = 404, {}, b"not found"
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def channel() -> Iterator[Channel]:
    server = Channel()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def config(home: Path, channel: Channel) -> Path:
    path = home.parent / "tg.toml"
    path.write_text(
        f'[telegram]\npreview_url = "{channel.base}/s/"\nmax_retries = 1\n'
        "backoff_seconds = 0.01\nmax_retry_after_seconds = 5.0\n"
    )
    return path


def tk_tg(config: Path, *args: str):
    result = CliRunner().invoke(tg.app, [args[0], "--config", str(config), *args[1:]])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return result, records


def summary(records: list[dict]) -> list[tuple]:
    return [(r["messageId"], r["event"], r["version"]) for r in records]


# -- the page parser --------------------------------------------------------------------------


def test_each_saved_page_gives_exactly_what_expected_jsonl_says() -> None:
    expected = [json.loads(line) for line in (PAGES / "expected.jsonl").read_text().splitlines()]
    got = []
    for name in ("page-1.html", "page-2.html", "page-older.html"):
        for post in parse_page((PAGES / name).read_text(), "SignalDesk").posts:
            got.append({
                "page": name, "message_id": post.message_id, "date": post.date.isoformat(),
                "text": post.text, "image_url": post.image_url, "reply_to": post.reply_to,
                "edited": post.edited, "forwarded_from": post.forwarded_from,
            })  # fmt: skip
    assert got == expected


def test_the_pages_give_their_before_cursor() -> None:
    cursors = [parse_page((PAGES / n).read_text(), "SignalDesk").before
               for n in ("page-1.html", "page-2.html", "page-older.html")]  # fmt: skip
    assert cursors == [1804, 1806, None]


def test_a_page_that_is_not_a_channel_page_is_a_layout_change_not_zero_posts() -> None:
    with pytest.raises(LayoutChangedError, match=r"SignalDesk: no div\.tgme_widget_message"):
        parse_page("<html><body><div class='new_widget'>post</div></body></html>", "SignalDesk")


def test_a_post_without_its_time_is_named_and_the_others_kept() -> None:
    page = (PAGES / "page-1.html").read_text()
    broken = page.replace('datetime="2026-11-19T03:40:02+00:00"', "", 1)
    got = parse_page(broken, "SignalDesk")
    assert len(got.posts) == 19 and 1807 not in {p.message_id for p in got.posts}
    assert got.problems == [
        "post SignalDesk/1807: no time[datetime] in .tgme_widget_message_date; skipped"
    ]


# -- polling ------------------------------------------------------------------------------------


def test_the_first_poll_writes_only_the_newest_post(config: Path) -> None:
    result, records = tk_tg(config, "poll", "SignalDesk")
    assert result.exit_code == ExitStatus.OK
    assert records == [{
        "record": "telegram_message", "channel": "signaldesk", "messageId": 1836,
        "version": 1, "date": "2026-11-20T02:14:58Z", "text": "#ARB 市價結束持倉",
        "isEdit": False, "event": "new", "replyTo": 1806, "source": "web_preview",
    }]  # fmt: skip


def test_later_polls_write_new_posts_the_edit_and_the_delete_once(
    config: Path, channel: Channel
) -> None:
    tk_tg(config, "poll", "SignalDesk")
    channel.page = "page-2.html"
    result, records = tk_tg(config, "poll", "SignalDesk")
    assert result.exit_code == ExitStatus.OK
    # 1810 edited (its stop moved), 1819 deleted; 1804 only scrolled off the page: kept
    assert summary(records) == [(1810, "edit", 2), (1819, "delete", 1), (1838, "new", 1),
                                (1841, "new", 1)]  # fmt: skip
    edit, deleted = records[0], records[1]
    assert edit["isEdit"] is True and "SL: 99600 (updated)" in edit["text"]
    assert deleted["text"] == "#DOGE/USDT 50x做空\n进场：市价\n止损：0.4120\n止盈：0.3850 / 0.3700"
    assert records[3]["replyTo"] == 1838
    again, nothing = tk_tg(config, "poll", "SignalDesk")
    assert (again.exit_code, nothing) == (ExitStatus.OK, [])


def test_backfill_pages_back_behind_the_cursor(config: Path, channel: Channel) -> None:
    result, records = tk_tg(config, "poll", "SignalDesk", "--backfill", "25")
    assert result.exit_code == ExitStatus.OK
    ids = [r["messageId"] for r in records]
    assert ids[:5] == [1783, 1785, 1790, 1797, 1801] and len(ids) == 25 and ids[-1] == 1836
    pages = [path for path in channel.requests if path.startswith("/s/")]
    assert pages == ["/s/SignalDesk", "/s/SignalDesk?before=1804"]


@pytest.mark.parametrize(
    ("since", "first", "count"),
    [("1800", 1801, 21), ("2026-11-20T00:00:00Z", 1834, 2), ("1836", None, 0)],
)
def test_since_an_id_or_a_time(config: Path, since: str, first: int | None, count: int) -> None:
    result, records = tk_tg(config, "poll", "SignalDesk", "--since", since)
    assert result.exit_code == ExitStatus.OK
    assert len(records) == count
    assert (records[0]["messageId"] if records else None) == first


def test_since_and_backfill_together_is_a_usage_error(config: Path) -> None:
    result, _ = tk_tg(config, "poll", "SignalDesk", "--since", "1800", "--backfill", "3")
    assert result.exit_code == ExitStatus.USAGE
    assert "--since and --backfill: give one of them" in result.stderr


def test_a_changed_layout_exits_65_and_is_counted(config: Path, channel: Channel) -> None:
    channel.script = [(200, {}, b"<html><body><p>We moved!</p></body></html>")]
    result, records = tk_tg(config, "poll", "SignalDesk")
    assert (result.exit_code, records) == (ExitStatus.BAD_INPUT, [])
    assert "the page layout may have changed" in result.stderr
    listed, rows = tk_tg(config, "ls", "--json")
    assert listed.exit_code == ExitStatus.TRY_AGAIN_LATER  # never a good poll: stale
    assert (rows[0]["errors"], rows[0]["lastId"]) == (1, None)
    assert "layout may have changed" in rows[0]["lastError"]


def test_429_waits_its_retry_after_then_reads_the_page(config: Path, channel: Channel) -> None:
    channel.script = [(429, {"Retry-After": "1"}, b"slow down")]
    started = time.monotonic()
    result, records = tk_tg(config, "poll", "SignalDesk")
    assert result.exit_code == ExitStatus.OK and summary(records) == [(1836, "new", 1)]
    assert time.monotonic() - started >= 1.0
    assert channel.requests == ["/s/SignalDesk", "/s/SignalDesk"]


def test_a_retry_after_too_long_exits_75(config: Path, channel: Channel) -> None:
    channel.script = [(429, {"Retry-After": "600"}, b"slow down")]
    result, records = tk_tg(config, "poll", "SignalDesk")
    assert (result.exit_code, records) == (ExitStatus.TRY_AGAIN_LATER, [])
    assert "Retry-After 600 s (more than max_retry_after_seconds = 5)" in result.stderr


def test_a_page_that_cannot_be_fetched_exits_69_after_the_retries(
    config: Path, channel: Channel
) -> None:
    channel.script = [(503, {}, b"down"), (503, {}, b"down")]
    result, records = tk_tg(config, "poll", "SignalDesk")
    assert (result.exit_code, records) == (ExitStatus.EXCHANGE_UNAVAILABLE, [])
    assert "/s/SignalDesk: HTTP 503 (after 1 retries)" in result.stderr
    assert len(channel.requests) == 2


def test_a_404_is_not_retried(config: Path, channel: Channel) -> None:
    result, _ = tk_tg(config, "poll", "NoSuchChannel")
    assert result.exit_code == ExitStatus.EXCHANGE_UNAVAILABLE
    assert channel.requests == ["/s/NoSuchChannel"]


def test_backoff_grows_exponentially_with_bounded_jitter(channel: Channel) -> None:
    channel.script = [(503, {}, b"")] * 3
    waits: list[float] = []
    fetcher = Fetcher(timeout=5, policy=RetryPolicy(3, 0.5, 60, jitter=0.25),
                      sleep=waits.append, rng=random.Random(7))  # fmt: skip
    assert fetcher.get(channel.base + "/s/SignalDesk").startswith(b"<!DOCTYPE html>")
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        assert 0.5 * 2**attempt <= wait <= 0.5 * 2**attempt * 1.25
    assert len(set(waits)) == 3


def test_the_retries_end_with_the_last_reason(channel: Channel) -> None:
    channel.script = [(502, {}, b"")] * 3
    fetcher = Fetcher(timeout=5, policy=RetryPolicy(2, 0, 60), sleep=lambda _s: None)
    with pytest.raises(SourceUnavailableError, match=r"HTTP 502 \(after 2 retries\)"):
        fetcher.get(channel.base + "/s/SignalDesk")


# -- the follower's state -------------------------------------------------------------------


def post(message_id: int, text: str, *, edited: bool = False) -> Post:
    return Post(message_id, datetime(2026, 11, 20, tzinfo=UTC), text, edited=edited)


def test_the_edited_flag_alone_makes_a_new_version(tmp_path: Path) -> None:
    with Store(tmp_path / "db") as store:
        follower = Follower(store)
        follower.observe("c", [[post(1, "a")]], 1, source="web_preview")
        got = follower.observe("c", [[post(1, "a", edited=True)]], 2, source="web_preview")
        assert [(r.event, r.version, r.is_edit) for r in got] == [("edit", 2, True)]
        assert follower.observe("c", [[post(1, "a", edited=True)]], 3, source="x") == []


def test_the_same_post_from_the_other_source_is_one_record(tmp_path: Path) -> None:
    with Store(tmp_path / "db") as store:
        follower = Follower(store)
        first = follower.observe("c", [[post(5, "BTC LONG")]], 1, source="web_preview")
        assert [r.message_id for r in first] == [5]
        assert follower.observe("c", [[post(5, "BTC LONG")]], 2, source="telegram") == []
        newer = follower.observe("c", [[post(5, "BTC LONG"), post(6, "x")]], 3, source="telegram")
        assert [(r.message_id, r.source) for r in newer] == [(6, "telegram")]


def test_only_the_newest_window_posts_are_remembered(tmp_path: Path) -> None:
    with Store(tmp_path / "db") as store:
        follower = Follower(store, window_posts=20)
        follower.observe("c", [[post(i, str(i)) for i in range(1, 31)]], 1, source="w")
        kept = store.db.execute("SELECT min(message_id), count(*) FROM tg_posts").fetchone()
        assert kept == (11, 20)


# -- photos ---------------------------------------------------------------------------------


def test_photos_are_stored_once_by_sha256_and_linked_to_the_version(
    config: Path, channel: Channel, home: Path
) -> None:
    channel.photos = {"sd-1809-chart.jpg": JPEG, "sd-1815-tia.jpg": JPEG}
    result, records = tk_tg(config, "poll", "SignalDesk", "--since", "1808")
    assert result.exit_code == ExitStatus.OK
    sha = hashlib.sha256(JPEG).hexdigest()
    photos = {r["messageId"]: (r.get("imagePath"), r.get("imageSha256")) for r in records}
    assert photos[1809] == photos[1815] == (f"media/{sha[:2]}/{sha}.jpg", sha)
    assert (home / "media" / sha[:2] / f"{sha}.jpg").read_bytes() == JPEG
    assert sorted(p.name for p in (home / "media").rglob("*") if p.is_file()) == [f"{sha}.jpg"]
    with Store(home / "tradekit.db") as store:
        assert store.db.execute("SELECT count(*) FROM tg_media").fetchone() == (1,)
        links = store.db.execute(
            "SELECT message_id, version, sha256 FROM tg_message_media ORDER BY message_id"
        ).fetchall()
    assert links == [(1809, 1, sha), (1815, 1, sha)]


def test_a_photo_over_the_cap_is_a_warning_and_the_post_goes_on(
    config: Path, channel: Channel
) -> None:
    config.write_text(config.read_text() + "max_media_bytes = 1000\n")
    channel.photos = {"sd-1809-chart.jpg": JPEG * 10}
    result, records = tk_tg(config, "poll", "SignalDesk", "--since", "1808")
    assert result.exit_code == ExitStatus.OK
    post_1809 = next(r for r in records if r["messageId"] == 1809)
    assert "imagePath" not in post_1809 and post_1809["imageUrl"].endswith("sd-1809-chart.jpg")
    assert "post 1809: photo not downloaded" in result.stderr
    assert f"{len(JPEG) * 10} bytes, more than the cap of 1000" in result.stderr


# -- tk tg ls ---------------------------------------------------------------------------------


def test_ls_shows_each_channel_and_exits_75_when_stale(config: Path, channel: Channel) -> None:
    tk_tg(config, "poll", "SignalDesk")
    channel.page = "page-2.html"
    tk_tg(config, "poll", "SignalDesk")
    result = CliRunner().invoke(tg.app, ["ls", "--config", str(config)])  # TK_NOW: now
    assert result.exit_code == ExitStatus.OK
    assert result.stdout.splitlines() == [
        "channel     last id  last poll             last good poll        posts  edits  "
        "deletes  errors  status  last error",
        "signaldesk     1841  2026-11-20 10:00:00Z  2026-11-20 10:00:00Z      3      1  "
        "      1       0  ok      -",
    ]
    later = CliRunner().invoke(
        tg.app, ["ls", "--config", str(config), "--now", "2026-11-20T10:11:00Z"]
    )
    assert later.exit_code == ExitStatus.TRY_AGAIN_LATER
    assert "stale (no good poll in 10 min): signaldesk" in later.stderr


def test_ls_with_nothing_followed_says_so(config: Path, home: Path) -> None:
    shutil.rmtree(home)  # no TK_HOME at all
    result, _ = tk_tg(config, "ls")
    assert result.exit_code == ExitStatus.CONFIG
    assert "was not made by `tk init`" in result.stderr and not home.exists()
    init_home(home)
    result, rows = tk_tg(config, "ls")
    assert (result.exit_code, rows) == (ExitStatus.OK, [])
    assert "no channel followed yet" in result.stderr


# -- --follow -------------------------------------------------------------------------------


def test_follow_writes_each_new_post_as_it_appears_until_interrupted(
    config: Path, channel: Channel
) -> None:
    config.write_text(config.read_text() + "polling_seconds = 0.2\n")
    process = subprocess.Popen(
        [script("tk"), "tg", "poll", "SignalDesk", "--follow", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        channel.page = "page-2.html"
        later = [json.loads(process.stdout.readline()) for _ in range(4)]
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=20)
    assert first["messageId"] == 1836
    assert summary(later) == [(1810, "edit", 2), (1819, "delete", 1), (1838, "new", 1),
                              (1841, "new", 1)]  # fmt: skip
    assert status == ExitStatus.INTERRUPTED

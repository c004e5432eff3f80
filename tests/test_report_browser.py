"""tk-report html in a real browser: Debian's chromium, headless, driven by playwright, with
every network request blocked. Screenshots of each state are saved under tests/artifacts/
(ignored by git) for a person to look at.

No chromium is a failure with the reason, not a skip: CI installs it (.ci/run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from report_fixtures import EXECUTED_ID, ReportHome, report_home

__all__ = ["report_home"]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the page's browser tests need Debian's chromium "
            "(`apt-get install -y chromium`; .ci/run installs it)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: `pip install -e '.[dev]'`")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """A page opened from disk with the network cut off; what it logged and asked for."""

    def __init__(self, browser: Any, path: Path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1500, "height": 1000})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.tkReport !== undefined")
        self.page.wait_for_timeout(300)  # the chart draws on the next animation frame

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text}")

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def chart_colours(self) -> int:
        """How many distinct colours the chart's canvases hold (a blank chart has 1-2)."""
        return self.js(
            """() => {
            const seen = new Set();
            for (const canvas of document.querySelectorAll('#chart canvas')) {
                if (!canvas.width || !canvas.height) continue;
                const w = canvas.width, h = canvas.height;
                const px = canvas.getContext('2d').getImageData(0, 0, w, h).data;
                for (let i = 0; i < px.length; i += 4 * 7) {
                    seen.add(px[i] << 16 | px[i + 1] << 8 | px[i + 2]);
                }
            }
            return seen.size;
        }"""
        )

    def clean(self) -> None:
        assert self.errors == []
        assert self.requests == []


def write_page(home: ReportHome, tmp_path: Path, args: str = "") -> Path:
    out = tmp_path / "page.html"
    result = home.run(f"tk-report html {args} --out {out}")
    assert result.returncode == 0, result.stderr
    return out


def seconds(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def expected_bars(home: ReportHome, page_file: Path) -> int:
    """Distinct 1h bars holding a BTCUSDT decision: from the audit itself (a plan's bar,
    else the bar before its cycleId's time), inside the candles the page holds."""
    from test_report_page import bar_times, page_data

    hours = set(bar_times(page_data(page_file)["candles"]["1h"]))
    bars = set()
    for _, record in home.audit_records():
        if ":BTCUSDT:" not in record["cycleId"]:
            continue
        source = (record.get("plan") or {}).get("source") or {}
        if source.get("barTime"):
            bar = seconds(source["barTime"])
        else:
            bar = seconds(record["cycleId"].split(":", 3)[3]) - 3600
        if bar in hours:
            bars.add(bar)
    return len(bars)


def test_demo_home_page_draws_every_decision_and_shows_a_chain(browser, report_home, tmp_path):
    path = write_page(report_home, tmp_path)
    page = Page(browser, path)
    page.shot("report-loaded")
    page.clean()
    assert page.chart_colours() > 20
    assert page.js("tkReport.markerCount()") == expected_bars(report_home, path)
    assert page.js("tkReport.state.offChart") == 0

    # a click on a known risk-blocked marker shows its cycleId and every risk reason
    blocked = next(
        r for _, r in reversed(report_home.audit_records())
        if (r.get("risk") or {}).get("approved") is False and ":BTCUSDT:" in r["cycleId"]
    )  # fmt: skip
    assert page.js(f"tkReport.reveal({json.dumps(blocked['cycleId'])})")
    page.page.wait_for_timeout(300)
    point = page.js(f"tkReport.markerPoint({json.dumps(blocked['cycleId'])})")
    assert point is not None
    page.page.mouse.click(point["x"], point["y"])
    panel = page.page.locator("#panel")
    panel.locator(f'[data-cycle-id="{blocked["cycleId"]}"]').wait_for()
    text = panel.inner_text()
    assert blocked["cycleId"] in text
    for reason in blocked["risk"]["reasons"]:
        assert reason in text
    assert f"{report_home.decisions}:" in text
    page.shot("report-clicked-marker")
    # the jq command the panel offers prints exactly that record's audit lines
    box = panel.locator(f'[data-cycle-id="{blocked["cycleId"]}"]')
    printed = report_home.must(box.locator("code").inner_text()).splitlines()
    audit = report_home.decisions.read_text().splitlines()
    lines = [n for n, r in report_home.audit_records() if r["cycleId"] == blocked["cycleId"]]
    assert [json.loads(line) for line in printed] == [json.loads(audit[n - 1]) for n in lines]
    page.clean()


def test_timeframe_switch_redraws(browser, report_home, tmp_path):
    page = Page(browser, write_page(report_home, tmp_path))
    before = page.page.locator("#chart").screenshot()
    hourly = page.js("tkReport.markerCount()")
    page.page.get_by_role("button", name="4h", exact=True).click()
    page.page.wait_for_timeout(300)
    assert page.js("tkReport.state.timeframe") == "4h"
    assert page.js("tkReport.state.drawn") == 2
    four_hourly = page.js("tkReport.markerCount()")
    assert 0 < four_hourly < hourly  # the same decisions on four times fewer bars
    assert page.page.locator("#chart").screenshot() != before
    assert page.chart_colours() > 20
    page.shot("report-4h")
    page.clean()


def test_trades_table_lists_the_guards_trades_and_a_row_opens_its_chain(
    browser, report_home, tmp_path
):
    page = Page(browser, write_page(report_home, tmp_path))
    closes = [e for e in report_home.guard_events() if e["kind"] == "close"]
    rows = page.page.locator("#trades tbody tr")
    assert rows.count() == len(closes)
    assert closes[0]["reason"] in rows.first.inner_text()
    assert f"{closes[0]['pnl']:.4f}" in rows.first.inner_text()
    rows.first.click()
    page.page.locator(f'#panel [data-cycle-id="{EXECUTED_ID}"]').wait_for()
    text = page.page.locator("#panel").inner_text()
    assert "clientOid tk" in text and "tracking" in text and "close panic" in text
    page.shot("report-trade-row")
    page.clean()


def test_decision_filters_and_paging(browser, report_home, tmp_path):
    page = Page(browser, write_page(report_home, tmp_path))
    total = page.js("tkReport.state.groups.reduce((n, g) => n + g.items.length, 0)")
    assert page.page.locator("#decisions tbody tr").count() == min(50, total)
    assert f"({total} rows)" in page.page.locator("#decisions-pager").inner_text()
    page.page.locator("#filters button", has_text="executed").click()
    rows = page.page.locator("#decisions tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-cycle-id") == EXECUTED_ID
    page.clean()


def test_backtest_folder_page_has_equity_and_drawdown_panes(browser, report_home, tmp_path):
    page = Page(browser, write_page(report_home, tmp_path, str(report_home.backtest)))
    page.clean()
    assert page.js("tkReport.chart.panes().length") == 3
    assert page.page.locator("#trades tbody tr").count() == 2
    assert "take_profit" in page.page.locator("#reasons").inner_text()
    assert "netPnl" in page.page.locator("#summary").inner_text()
    assert page.chart_colours() > 20
    page.shot("report-backtest")


def test_page_without_candles_says_what_is_missing(browser, report_home, tmp_path):
    audit = tmp_path / "eth.jsonl"
    eth = {"tradePlanVersion": 1, "cycleId": "tg:chan:1", "plan": {"symbol": "ETHUSDT"}}
    audit.write_text(json.dumps(eth) + "\nnot json\n")
    out = tmp_path / "eth.html"
    assert report_home.run(f"tk-report html {audit} --out {out}").returncode == 65
    page = Page(browser, out)
    page.clean()
    problems = page.page.locator("#problems").inner_text()
    assert "no ETHUSDT candles" in problems and f"{audit}:2: invalid JSON" in problems
    assert page.page.locator("#decisions tbody tr").count() == 1
    page.shot("report-no-candles")

"""tk-parse-tg as a command: real subprocesses, a real TK_HOME and SQLite, exact outputs and
exit statuses; and the pipe tk-parse-tg --text | tk-risk --paper | tk-exec --paper."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

from conftest import BIN, FIXED_NOW, ROOT, script

DEV_SET = ROOT / "tests" / "data" / "telegram" / "dev-set.jsonl"
DEV = [json.loads(line) for line in DEV_SET.read_text("utf-8").splitlines()]


def run(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [script("tk-parse-tg"), *args], input=stdin, capture_output=True, check=False, timeout=120
    )


def errors_of(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [line for line in result.stderr.decode().splitlines() if ": error: " in line]


def records(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode().splitlines()]


def message(message_id: int, text: str, **extra: object) -> str:
    fields = {"record": "telegram_message", "channel": "desk", "messageId": message_id}
    fields |= {"date": "2026-11-20T09:00:00Z", **extra, "text": text}
    return json.dumps(fields, ensure_ascii=False)


def test_text_mode_reads_escaped_line_breaks_and_numbers_posts_by_line(home: Path) -> None:
    posts = "BTC LONG\\nEntry: 96000\\nSL: 95000\\nTP: 98000\nstill holding, be patient\n"
    result = run(["--text", "--channel", "desk"], posts.encode())
    assert result.returncode == 0, result.stderr
    first, second = records(result.stdout)
    assert first["cycleId"] == "tg:desk:1" and first["plan"]["stopLoss"] == 95000
    assert first["plan"]["entry"] == {"type": "limit", "price": 96000, "low": 96000, "high": 96000}
    assert second == {
        "tradePlanVersion": 1,
        "cycleId": "tg:desk:2",
        "plan": None,
        "parse": {
            "kind": "non_signal",
            "parser": "rules",
            "reason": "status chatter",
            "missingFields": [],
            "source": {"kind": "telegram", "channel": "desk", "messageId": 2, "version": 1},
        },
    }


def test_bad_lines_are_named_the_rest_parsed_exit_65_no_traceback(home: Path) -> None:
    good = message(3, "SELL ETH/USDT @ 3455\nStop Loss 3530")
    huge = message(4, "x" * 1_000_000)
    stdin = "\n".join(['{"record":"news_item","id":"n"}', message(2, ""), huge, good]) + "\n"
    result = run([], stdin.encode() + b'{"record":"telegram_message","text":"\xff"}\n')
    assert result.returncode == 65
    errors = errors_of(result)
    assert [e.split(": ", 3)[2] for e in errors] == [f"<stdin>:{n}" for n in (1, 2, 3, 5)]
    assert "a 'news_item' record, not a telegram_message" in errors[0]
    assert "text: an empty post (no text and no image)" in errors[1]
    assert "text: String should have at most 100000 characters" in errors[2]
    assert "not UTF-8 text" in errors[3]
    assert "Traceback" not in result.stderr.decode()
    [plan] = records(result.stdout)
    assert plan["cycleId"] == "tg:desk:3" and plan["plan"]["side"] == "short"


def test_text_mode_refuses_invalid_utf8_and_a_1_mb_line(home: Path) -> None:
    stdin = b"BTC LONG \xff\xfe\n" + b"y" * 1_000_000 + b"\nBTC LONG\\nEntry: 96000\n"
    result = run(["--text"], stdin)
    assert result.returncode == 65
    errors = errors_of(result)
    assert errors[0].startswith("tk-parse-tg: error: <stdin>:1: text: not UTF-8: byte 0xff")
    assert errors[1].startswith(
        "tk-parse-tg: error: <stdin>:2: text: a post of 1000000 characters (at most 100000)"
    )
    [plan] = records(result.stdout)
    assert plan["cycleId"] == "tg:text:3" and plan["plan"]["symbol"] == "BTCUSDT"


def test_an_image_post_with_no_text_needs_vision(home: Path) -> None:
    result = run([], (message(9, "", imageUrl="https://cdn.example.invalid/a.jpg") + "\n").encode())
    assert result.returncode == 0, result.stderr
    [record] = records(result.stdout)
    assert record["plan"] is None
    assert record["parse"]["missingFields"] == ["symbol", "side", "entry"]


def test_a_reply_takes_the_symbol_of_the_post_it_replies_to_from_sqlite(home: Path) -> None:
    first = [message(10, "#WIF/USDT 做多 20x\n进场：2.18-2.22\n止损：2.09"),
             message(11, "BTC/USDT 做空 10x\n进场：97200-97600\n止损：98400")]  # fmt: skip
    assert run([], ("\n".join(first) + "\n").encode()).returncode == 0
    # a later run: only the database remembers post 10
    result = run([], (message(12, "TP3看 2.55", replyTo=10) + "\n").encode())
    [record] = records(result.stdout)
    assert record["plan"]["symbol"] == "WIFUSDT" and record["plan"]["action"] == "set_tp"
    assert record["plan"]["takeProfits"] == [2.55]
    assert record["parse"]["symbolFrom"] == "reply"


def test_without_a_reply_only_exactly_one_open_plan_resolves_a_manage_post(home: Path) -> None:
    posts = [
        message(20, "#OP/USDT 做多 10倍\n进场：1.720-1.750\n止损：1.660"),
        message(21, "Close all ❗️"),  # one open plan (OP): that one, and it is closed
        message(22, "#SUI/USDT LONG\nEntry: 4.05\nSL 3.90"),
        message(23, "#ENA/USDT LONG\nEntry: 0.60\nSL 0.57"),
        message(24, "Move SL to breakeven"),  # SUI and ENA open: nobody can tell which
    ]
    result = run([], ("\n".join(posts) + "\n").encode())
    closed, manual = records(result.stdout)[1], records(result.stdout)[4]
    assert (closed["plan"]["symbol"], closed["plan"]["action"]) == ("OPUSDT", "close")
    assert closed["parse"]["symbolFrom"] == "open_plan"
    assert manual["plan"] is None and manual["parse"]["missingFields"] == ["symbol"]
    assert "more than one plan of channel desk is open" in manual["parse"]["reason"]


def test_a_rerun_writes_the_same_records_and_an_edit_keeps_the_cycle_id(home: Path) -> None:
    entry, edited = "#OP/USDT 做多\n进场：1.720-1.750", "#OP/USDT 做多\n进场：1.730-1.750"
    posts = [message(30, entry), message(31, "全部平仓"), message(30, edited, version=2)]
    stdin = ("\n".join(posts) + "\n").encode()
    once, twice = run([], stdin), run([], stdin)
    assert once.stdout == twice.stdout and once.returncode == 0
    cycle_ids = [record["cycleId"] for record in records(once.stdout)]
    assert cycle_ids == ["tg:desk:30", "tg:desk:31", "tg:desk:30"]
    assert records(once.stdout)[2]["plan"]["source"]["version"] == 2


# -- the pipe ----------------------------------------------------------------------------

PIPE_CONFIG = """
[risk]
max_trades_per_day = 0
min_interval_minutes = 0
cooldown_minutes = 0
max_open_positions = 50
one_position_per_symbol = false
max_entry_slippage = 0.1

[risk.sizing]
default_notional = 50
"""


def _candles(path: Path, price: int) -> None:
    now_ms = int(datetime.fromisoformat(FIXED_NOW.replace("Z", "+00:00")).timestamp() * 1000)
    rows = ["ts,open,high,low,close,volume"]
    for hour in range(300, 0, -1):
        ts = now_ms - hour * 3_600_000
        rows.append(f"{ts},{price},{price * 1.001:.2f},{price * 0.999:.2f},{price},100")
    path.write_text("\n".join(rows) + "\n")


def test_pipe_places_known_valid_entries_blocks_invalid_never_places_needs_manual(
    home: Path, tmp_path: Path
) -> None:
    # the home fixture is one tk init made
    (home / "config.toml").write_text(PIPE_CONFIG)
    # the paper market sits between the dev set's BTC/ETH longs (below) and shorts (above)
    for symbol, price in (("BTCUSDT", 102_000), ("ETHUSDT", 3_430)):
        _candles(tmp_path / f"{symbol}-1h.csv", price)
        subprocess.run([script("tk"), "data", "import", str(tmp_path / f"{symbol}-1h.csv")],
                       check=True, capture_output=True)  # fmt: skip
    posts = "".join(case["text"].replace("\n", "\\n") + "\n" for case in DEV)
    env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         "tk-parse-tg --text --channel dev | tk-risk --paper | tk-exec --paper"],
        input=posts, capture_output=True, text=True, check=False, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = records(result.stdout.encode())
    assert len(out) == len(DEV)
    placed = {case["id"] for case, rec in zip(DEV, out, strict=True)
              if rec["execution"]["status"] == "placed"}  # fmt: skip
    known_valid = {
        case["id"]
        for case in DEV
        if case["expected"]["kind"] == "ENTRY_SIGNAL"
        and case["expected"].get("valid", True)
        and case["expected"]["symbol"] in ("BTCUSDT", "ETHUSDT")
    }
    assert placed == known_valid and len(placed) == 8
    for case, rec in zip(DEV, out, strict=True):
        if case["expected"].get("valid") is False:
            assert rec["parse"]["valid"] is False and not rec["risk"]["approved"]
            assert any(r.startswith("parse.valid: false: ") for r in rec["risk"]["reasons"])
        if rec["plan"] is None:
            assert rec["execution"]["status"] == "skipped" and rec["execution"]["orders"] == []

"""The mode and the home the user meant (Issue 12): an explicit --live that cannot be used
exits 78 and does nothing; a home `tk init` did not make is refused by every command that
trades or reads the state, and created by none; mode options only where they mean
something; bin/tk-cycle checks first and gives its mode to every stage; --adopt."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEED_PLAN, init_home, script
from test_tk_exec import approved, executions, ledger, lines, tk_exec

from tradekit.emulator.server import TEST_CREDENTIALS
from tradekit.exitstatus import ExitStatus
from tradekit.home import INITIALISED_FLAG, Home
from tradekit.store import Store

CSV = str(ROOT / "examples" / "BTCUSDT-1h.csv")
AT_18 = "2026-02-19T18:00:00Z"
CREDS = {
    "BITGET_API_KEY": "k" * 12,
    "BITGET_API_SECRET": "s" * 12,
    "BITGET_API_PASSPHRASE": "p" * 12,
}
NO_CONFIG_NOR_CREDS = (
    "--live refused: [live] enabled is false in the config; missing or unusable "
    "BITGET_API_KEY, BITGET_API_SECRET, BITGET_API_PASSPHRASE in the environment\n"
)


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def tree(path: Path) -> list[str]:
    """Everything under a directory, relative: what a run left there."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def db_rows(home: Path, table: str) -> int:
    with sqlite3.connect(home / "tradekit.db") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# -- an explicit --live that cannot be used ------------------------------------------------------

LIVE_STAGES = [
    ("tk-exec", SEED_PLAN + "\n"),
    ("tk-risk", SEED_PLAN + "\n"),
    ("tk-news-gate", SEED_PLAN + "\n"),
    ("tk-guard", ""),
]


@pytest.mark.parametrize(("command", "stdin"), LIVE_STAGES, ids=[c for c, _ in LIVE_STAGES])
def test_live_without_config_and_credentials_exits_78_and_does_nothing(
    home: Path, command: str, stdin: str
) -> None:
    before = tree(home)
    result = run(script(command), "--live", stdin=stdin)
    assert result.returncode == ExitStatus.CONFIG
    assert result.stdout == ""
    assert result.stderr == f"{command}: error: {NO_CONFIG_NOR_CREDS}"
    assert tree(home) == before  # no audit line, no orders log, no errors log
    assert db_rows(home, "intents") == db_rows(home, "runs") == 0


@pytest.mark.parametrize("command", ["tk-exec", "tk-risk"])
def test_live_with_the_config_but_one_credential_missing_names_it(home: Path, command: str) -> None:
    (home / "config.toml").write_text("[live]\nenabled = true\n")
    env = {**CREDS, "BITGET_API_PASSPHRASE": ""}
    result = run(script(command), "--live", stdin=SEED_PLAN + "\n", env=env)
    assert result.returncode == ExitStatus.CONFIG and result.stdout == ""
    assert result.stderr == (
        f"{command}: error: --live refused: missing or unusable BITGET_API_PASSPHRASE in the "
        "environment\n"
    )
    assert not (home / "logs" / "decisions.jsonl").exists()
    assert db_rows(home, "intents") == 0


def test_live_with_credentials_but_not_enabled_names_the_config(home: Path) -> None:
    result = run(script("tk-exec"), "--live", stdin=SEED_PLAN + "\n", env=CREDS)
    assert result.returncode == ExitStatus.CONFIG
    assert result.stderr == (
        "tk-exec: error: --live refused: [live] enabled is false in the config\n"
    )


def test_live_refused_in_signal_and_status_too(home: Path) -> None:
    for args in (("tk-signal", "v5", "--data", CSV), ("tk", "status")):
        result = run(script(args[0]), *args[1:], "--live")
        assert result.returncode == ExitStatus.CONFIG and result.stdout == ""
        assert result.stderr.endswith(f"error: {NO_CONFIG_NOR_CREDS}")
    assert not (home / "logs" / "decisions.jsonl").exists()


def test_no_mode_is_still_a_dry_run(home: Path) -> None:
    result = run(script("tk-exec"), stdin=SEED_PLAN + "\n")
    assert result.returncode == 0, result.stderr
    [execution] = executions(result)
    assert execution["mode"] == "dry-run"


# -- a home tk init did not make -----------------------------------------------------------------

STATE_COMMANDS = [
    ("tk-risk", "--paper"),
    ("tk-exec", "--paper"),
    ("tk-exec",),
    ("tk-guard", "--paper"),
    ("tk-guard",),
    ("tk-news-gate", "--paper"),
    ("tk-signal", "v5"),
    ("tk-parse-tg",),  # it keeps what each post produced, for the replies after it
    ("tk", "paper", "status"),
    ("tk", "paper", "reset"),
    ("tk", "kill", "safe"),
    ("tk", "kill", "status"),
    ("tk", "news", "fetch"),
    ("tk", "news", "ls"),
    ("tk", "status"),
    ("tk", "data", "import", CSV),
    ("tk", "data", "fetch", "BTCUSDT", "1h", "--since", "2026-01-01"),
]


def refusal(prog: str, path: Path) -> str:
    return (
        f"{prog}: error: TK_HOME {path} was not made by `tk init`: nothing done (run `tk init "
        f"--home {path}` to make it, or point --home / TK_HOME at your home)\n"
    )


@pytest.mark.parametrize("args", STATE_COMMANDS, ids=[" ".join(a[:3]) for a in STATE_COMMANDS])
def test_a_missing_home_is_refused_and_not_created(bare_home: Path, args: tuple[str, ...]) -> None:
    result = run(script(args[0]), *args[1:], stdin=SEED_PLAN + "\n")
    prog = " ".join(args[:2]) if args[0] == "tk" else args[0]
    assert result.returncode == ExitStatus.CONFIG, result.stderr
    assert result.stdout == ""
    assert result.stderr == refusal(prog, bare_home)
    assert not bare_home.exists()


def test_a_typo_home_given_as_option_is_refused_and_not_created(tmp_path: Path) -> None:
    result = run(
        script("tk-risk"), "--paper", "--home", "typo", stdin=SEED_PLAN + "\n", cwd=tmp_path
    )
    assert result.returncode == ExitStatus.CONFIG
    assert result.stderr == refusal("tk-risk", Path("typo"))
    assert tree(tmp_path) == []


def test_the_default_home_in_another_directory_is_not_started_from_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TK_HOME"}
    result = subprocess.run(
        [script("tk-exec"), "--paper"],
        input=SEED_PLAN + "\n",
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == ExitStatus.CONFIG
    assert "TK_HOME memory was not made by `tk init`" in result.stderr
    assert tree(tmp_path) == []


def test_an_existing_folder_with_only_a_config_is_refused_and_left_as_it_is(
    bare_home: Path,
) -> None:
    bare_home.mkdir()
    (bare_home / "config.toml").write_text("mode = 'paper'\n")
    result = run(script("tk-exec"), stdin=SEED_PLAN + "\n")
    assert result.returncode == ExitStatus.CONFIG
    assert result.stderr == refusal("tk-exec", bare_home)
    assert tree(bare_home) == ["config.toml"]


def test_a_home_whose_database_was_lost_is_refused(home: Path) -> None:
    (home / "tradekit.db").unlink()
    result = run(script("tk-risk"), "--paper", stdin=SEED_PLAN + "\n")
    assert result.returncode == ExitStatus.CONFIG
    assert result.stderr == refusal("tk-risk", home)
    assert not (home / "tradekit.db").exists()


def test_init_marks_the_home_and_the_mark_is_enough_without_a_config(bare_home: Path) -> None:
    result = run(script("tk"), "init")
    assert result.returncode == 0, result.stderr
    with Store(bare_home / "tradekit.db") as store:
        assert store.get_flag(INITIALISED_FLAG) == {"by": "tk init"}
    (bare_home / "config.toml").unlink()  # e.g. the config is given with --config
    assert Home(bare_home).is_initialised()
    assert run(script("tk-exec"), stdin=SEED_PLAN + "\n").returncode == 0


def test_a_home_of_an_older_tradekit_is_accepted_and_one_with_only_a_database_is_not(
    bare_home: Path,
) -> None:
    bare_home.mkdir()
    Store(bare_home / "tradekit.db").close()  # what an older version's first run left
    assert not Home(bare_home).is_initialised()
    refused = run(script("tk-exec"), stdin=SEED_PLAN + "\n")
    assert refused.returncode == ExitStatus.CONFIG
    (bare_home / "config.toml").write_text("")  # an older `tk init` wrote both
    assert Home(bare_home).is_initialised()
    assert run(script("tk-exec"), stdin=SEED_PLAN + "\n").returncode == 0


def test_init_on_an_older_home_keeps_its_ledger(bare_home: Path) -> None:
    bare_home.mkdir()
    with Store(bare_home / "tradekit.db") as store:
        store.start_run("exec", "paper", store_now())
    assert run(script("tk"), "init").returncode == 0
    assert db_rows(bare_home, "runs") == 1
    assert Home(bare_home).is_initialised()


def store_now() -> Any:
    from tradekit.clock import parse_time

    return parse_time("2026-11-20T10:00:00Z")


OPTIONAL_COMMANDS = [
    (("tk-report", "--json"), SEED_PLAN + "\n"),
    (("tk", "data", "ls"), ""),
    (("tk-news-gate",), SEED_PLAN + "\n"),
    (("tk-signal", "v5", "--data", CSV, "--now", AT_18), ""),
]


@pytest.mark.parametrize(
    ("args", "stdin"), OPTIONAL_COMMANDS, ids=[" ".join(a[:3]) for a, _ in OPTIONAL_COMMANDS]
)
def test_commands_that_need_no_state_run_without_a_home_and_create_none(
    bare_home: Path, args: tuple[str, ...], stdin: str
) -> None:
    result = run(script(args[0]), *args[1:], stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert not bare_home.exists()


def test_signal_with_data_in_an_uninitialised_home_writes_the_same_plan(
    bare_home: Path, tmp_path: Path
) -> None:
    without = run(script("tk-signal"), "v5", "--data", CSV, "--now", AT_18)
    init_home(bare_home)
    within = run(script("tk-signal"), "v5", "--data", CSV, "--now", AT_18)
    assert without.returncode == within.returncode == 0
    assert without.stdout == within.stdout and json.loads(without.stdout)["cycleId"]
    assert (bare_home / "logs" / "decisions.jsonl").read_text().count("\n") == 1


def test_a_bad_line_in_an_uninitialised_home_is_reported_not_journaled(bare_home: Path) -> None:
    result = run(script("tk-report"), stdin="not json\n")
    assert result.returncode == ExitStatus.BAD_INPUT
    assert "<stdin>:1: invalid JSON" in result.stderr
    assert not bare_home.exists()


# -- mode options only where a mode means something ----------------------------------------------

MODELESS = [
    ("tk-report",),
    ("tk-parse-tg",),
    ("tk", "emulator"),
    ("tk", "data", "ls"),
    ("tk", "init"),
    ("tk", "kill", "status"),
    ("tk", "news", "ls"),
    ("tk", "paper", "status"),
]


@pytest.mark.parametrize("args", MODELESS, ids=[" ".join(a) for a in MODELESS])
@pytest.mark.parametrize("flag", ["--live", "--paper"])
def test_commands_that_act_in_no_mode_have_no_mode_options(
    bare_home: Path, args: tuple[str, ...], flag: str
) -> None:
    result = run(script(args[0]), *args[1:], flag)
    assert result.returncode == ExitStatus.USAGE
    assert f"No such option: {flag}" in result.stderr
    helped = run(script(args[0]), *args[1:], "--help").stdout
    assert not re.search(rf"^\s+{flag}\b", helped, re.M), helped
    assert not bare_home.exists()


def test_news_fetch_keeps_its_own_dry_run_only(home: Path) -> None:
    helped = run(script("tk"), "news", "fetch", "--help").stdout
    assert re.search(r"^\s+--dry-run\b", helped, re.M)
    assert not re.search(r"^\s+--(paper|live)\b", helped, re.M)


# -- bin/tk-cycle ---------------------------------------------------------------------------------


def cycle(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    path = f"{Path(script('tk')).parent}:{os.environ['PATH']}"
    return run(str(ROOT / "bin" / "tk-cycle"), *args, env={"PATH": path, **(env or {})})


def test_cycle_live_that_cannot_be_used_exits_78_before_any_stage(home: Path) -> None:
    before = tree(home)
    result = cycle("--live", "v5")
    assert result.returncode == ExitStatus.CONFIG
    assert result.stdout == ""
    assert result.stderr == (
        f"tk status: error: {NO_CONFIG_NOR_CREDS}tk-cycle: nothing started (exit 78)\n"
    )
    assert tree(home) == before  # no lock, no audit line of any stage
    assert db_rows(home, "runs") == 0


def test_cycle_in_a_missing_home_exits_78_and_creates_nothing(bare_home: Path) -> None:
    result = cycle("--paper", "v5")
    assert result.returncode == ExitStatus.CONFIG
    assert (
        result.stderr == refusal("tk status", bare_home) + "tk-cycle: nothing started (exit 78)\n"
    )
    assert not bare_home.exists()


#: a long entry at the bundled candles' last bar (its close 66336.1 crosses the line; the
#: bar before closed below it, flat)
LONG_AT_THE_LAST_BAR = {
    "name": "cross",
    "side": "both",
    "timeframe": "1h",
    "features": [{"name": "line", "kind": "constant", "value": 66300}],
    "entryLong": "close > line",
    "entryShort": "close < 0",
    "exitLong": "close < line",
    "exitShort": "close > line",
}


def test_cycle_gives_its_mode_to_the_news_gate_so_once_uses_items_up(
    home: Path, tmp_path: Path
) -> None:
    assert run(script("tk"), "data", "import", CSV).returncode == 0
    spec = tmp_path / "cross.json"
    spec.write_text(json.dumps(LONG_AT_THE_LAST_BAR))
    item = {
        "id": "hack",
        "title": "Bitcoin exchange hack drains hot wallet",
        "publishedAt": "2026-02-19T17:50:00Z",
    }
    (home / "news.jsonl").write_text(json.dumps(item) + "\n")
    (home / "config.toml").write_text(
        '[news]\nconsume = "once"\nsources = [{ name = "desk", kind = "jsonl", url = '
        '"news.jsonl" }]\n'
    )
    fetched = run(script("tk"), "news", "fetch", "--now", AT_18)
    assert fetched.returncode == 0, fetched.stderr
    result = cycle("--paper", "dsl", "--spec", str(spec), env={"TK_NOW": AT_18})
    assert result.returncode == 0, result.stderr
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["plan"]["side"] == "long" and record["decision"]["blockedByNews"] is True
    entries = [json.loads(x) for x in (home / "logs" / "decisions.jsonl").read_text().splitlines()]
    assert [(e["stage"], e["mode"]) for e in entries] == [
        ("signal", "paper"),
        ("news-gate", "paper"),
        ("risk", "paper"),
        ("exec", "paper"),
    ]
    listed = run(script("tk"), "news", "ls", "--json", "--now", AT_18)
    assert json.loads(listed.stdout)["consumedFor"] == ["BTCUSDT"]  # used up by this cycle


# -- --adopt: a live home whose ledger knows nothing of the account ------------------------------


def live_home(path: Path, url: str) -> Path:
    init_home(path)
    (path / "config.toml").write_text(
        f'[live]\nenabled = true\n[exchange]\nurl = "{url}"\nrate_limit = false\n'
        "timeout_ms = 1000\n[risk.sizing]\nmax_notional = 1000\n"  # the test plan: 663 USDT
    )
    return path


@pytest.fixture
def creds() -> dict[str, str]:
    key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
    return {"BITGET_API_KEY": key, "BITGET_API_SECRET": secret, "BITGET_API_PASSPHRASE": passphrase}


NULL_PLAN = '{"tradePlanVersion":1,"cycleId":"c2","plan":null}\n'


def test_a_fresh_home_is_refused_live_while_the_account_holds_our_position(
    home: Path, tmp_path: Path, emulator: Any, creds: dict[str, str]
) -> None:
    live_home(home, emulator.url)
    placed = tk_exec("--live", stdin=lines(approved()), env=creds)
    assert placed.returncode == 0, placed.stderr
    other = live_home(tmp_path / "other", emulator.url)
    env = {**creds, "TK_HOME": str(other)}
    refused = tk_exec("--live", stdin=NULL_PLAN, env=env)
    assert refused.returncode == ExitStatus.CONFIG and refused.stdout == ""
    assert refused.stderr.startswith(
        f"tk-exec: error: the ledger of {other} has no live plan, but the account shows "
        "1 position(s) (BTCUSDT long 0.01) and "
    )
    assert "open order(s) with our clientOid (BTCUSDT tk" in refused.stderr
    assert refused.stderr.endswith(
        "is this the right TK_HOME? Nothing done; run with --adopt to trade on from this "
        "home with what the account holds\n"
    )
    assert ledger(other) == [] and db_rows(other, "runs") == 0
    assert not (other / "logs" / "decisions.jsonl").exists()

    adopted = tk_exec("--live", "--adopt", stdin=NULL_PLAN, env=env)
    assert adopted.returncode == 0, adopted.stderr
    assert "tk-exec: warning: --adopt: this home takes over 1 position(s)" in adopted.stderr
    assert executions(adopted)[0]["status"] == "skipped"
    again = tk_exec("--live", stdin=NULL_PLAN, env=env)  # asked once: recorded in the home
    assert again.returncode == 0 and "--adopt" not in again.stderr


def test_a_fresh_home_with_an_empty_account_trades_live_without_adopt(
    home: Path, emulator: Any, creds: dict[str, str]
) -> None:
    live_home(home, emulator.url)
    result = tk_exec("--live", stdin=lines(approved()), env=creds)
    assert result.returncode == 0, result.stderr
    assert executions(result)[0]["status"] == "placed"


def test_adopt_without_live_is_a_usage_error(home: Path) -> None:
    result = tk_exec("--paper", "--adopt", stdin=NULL_PLAN)
    assert result.returncode == ExitStatus.USAGE
    assert result.stderr == "tk-exec: error: --adopt is for --live (this run is paper)\n"


def test_a_fresh_home_is_refused_by_the_live_guard_until_it_adopts(
    home: Path, tmp_path: Path, emulator: Any, creds: dict[str, str]
) -> None:
    live_home(home, emulator.url)
    placed = tk_exec("--live", "--now", AT_18, stdin=lines(approved()), env=creds)
    assert placed.returncode == 0, placed.stderr
    stops_before = sorted(o.client_oid for o in emulator.emulator.engine.state.orders.values())
    other = live_home(tmp_path / "other", emulator.url)
    env = {**creds, "TK_HOME": str(other)}
    guard = [script("tk-guard"), "--live", "--now", AT_18]
    refused = run(*guard, env=env)
    assert refused.returncode == ExitStatus.CONFIG and refused.stdout == ""
    assert refused.stderr.startswith(f"tk-guard: error: the ledger of {other} has no live plan")
    assert not (other / "logs" / "guard.jsonl").exists()
    assert db_rows(other, "guard_positions") == 0
    assert sorted(o.client_oid for o in emulator.emulator.engine.state.orders.values()) == (
        stops_before
    )  # nothing sent
    adopted = run(*guard, "--adopt", env=env)
    assert adopted.returncode == 0, adopted.stderr
    assert "tk-guard: warning: --adopt: this home takes over 1 position(s)" in adopted.stderr
    assert db_rows(other, "guard_positions") == 1


def test_guard_adopt_without_live_is_a_usage_error(home: Path) -> None:
    result = run(script("tk-guard"), "--paper", "--adopt")
    assert result.returncode == ExitStatus.USAGE
    assert result.stderr == "tk-guard: error: --adopt is for --live (this run is paper)\n"

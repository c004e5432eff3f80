"""The command family: tk dispatch, help kept in sync with the README, init/schema/status,
config errors and the live-mode rule."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import FIXED_NOW, ROOT, SEED_PLAN, script
from typer.testing import CliRunner

from tradekit.cli import init as init_cmd
from tradekit.cli import schema as schema_cmd
from tradekit.cli import status as status_cmd
from tradekit.cli.main import COMMANDS, _module
from tradekit.config import Config, LiveConfig, load_config
from tradekit.errors import ConfigError
from tradekit.exitstatus import ExitStatus
from tradekit.modes import resolve_mode
from tradekit.store import SCHEMA_VERSION

README = (ROOT / "README.md").read_text()
STAGES = ["signal", "news-gate", "parse-tg", "risk", "exec", "guard", "report"]
CREDS = {
    "BITGET_API_KEY": "k" * 12,
    "BITGET_API_SECRET": "s" * 12,
    "BITGET_API_PASSPHRASE": "p" * 12,
}


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, capture_output=True, text=True, check=False, timeout=60
    )


def readme_table(heading: str) -> dict[str, str]:
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`.+?`(?:, `.+?`)?) \| (.*) \|$", section, re.M)
    return {key: value for key, value in rows}


def test_readme_command_table_matches_each_commands_summary() -> None:
    table = readme_table("Commands")
    expected = {}
    for name in COMMANDS:
        key = f"`tk-{name}`" if name in STAGES else f"`tk {name}`"
        expected[key] = _module(name).SUMMARY
    assert table == expected


def _options(heading: str) -> list[str]:
    return [opt for key in readme_table(heading) for opt in re.findall(r"(--[a-z-]+|-[vq]\b)", key)]


#: the commands that act in a mode, as README's "Mode options" names them
MODE_COMMANDS = ["signal", "news-gate", "risk", "exec", "guard", "status"]


def _listed(option: str, help_text: str) -> bool:
    return re.search(rf"^\s+(-\w, )?{re.escape(option)}\b", help_text, re.M) is not None


def test_readme_common_options_appear_in_every_stage_help() -> None:
    common = _options("Common options")
    reading = _options("Options of the stages that read records")
    assert "--home" in common and "-v" in common and "--on-error" in reading
    runner = CliRunner()
    for name in STAGES:
        result = runner.invoke(_module(name).app, ["--help"])
        assert result.exit_code == 0
        # tk-signal writes records it makes; tk-guard reads the account, not records
        own = {"signal": ["--pretty"], "guard": ["--watch"]}
        expected = common + own.get(name, reading)
        for option in expected:
            assert _listed(option, result.stdout), f"tk-{name} --help lacks {option}"


def test_readme_mode_options_appear_exactly_on_the_commands_that_act_in_a_mode() -> None:
    modes = _options("Mode options")
    assert modes == ["--dry-run", "--paper", "--live"]
    section = README.split("## Mode options\n", 1)[1].split("\n## ", 1)[0]
    for name in MODE_COMMANDS:
        shown = f"tk-{name}" if name in STAGES else f"tk {name}"
        assert shown in section, f"README's Mode options does not name {shown}"
    runner = CliRunner()
    for name in COMMANDS:
        helped = runner.invoke(_module(name).app, ["--help"]).stdout
        for option in modes:
            assert _listed(option, helped) == (name in MODE_COMMANDS), f"tk {name}: {option}"


def test_readme_exit_status_table_matches_the_enum() -> None:
    rows = re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", README, re.M)
    assert {int(code): name for code, name in rows} == {s.value: s.name for s in ExitStatus}


@pytest.mark.parametrize("name", STAGES)
def test_tk_subcommand_and_console_script_show_the_same_options(name: str) -> None:
    umbrella = run(script("tk"), name, "--help")
    direct = run(script(f"tk-{name}"), "--help")
    assert umbrella.returncode == direct.returncode == 0
    assert umbrella.stdout.replace(f"Usage: tk {name} ", f"Usage: tk-{name} ") == direct.stdout


def test_tk_subcommand_runs_the_same_stage(home: Path) -> None:
    assert run(script("tk"), "news-gate", stdin=SEED_PLAN + "\n").stdout == SEED_PLAN + "\n"


def test_tk_lists_every_command_and_suggests_on_typos() -> None:
    listing = run(script("tk"), "--help")
    assert listing.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in listing.stdout
    typo = run(script("tk"), "rsik")
    assert typo.returncode == ExitStatus.USAGE
    assert (
        typo.stderr
        == "tk: error: no such command 'rsik'. Did you mean `tk risk`? See `tk --help`.\n"
    )
    assert run(script("tk")).returncode == ExitStatus.USAGE


def test_version_everywhere() -> None:
    from tradekit import __version__

    assert run(script("tk"), "--version").stdout == f"tk (tradekit) {__version__}\n"
    assert run(script("tk-exec"), "--version").stdout == f"tk-exec (tradekit) {__version__}\n"


def test_help_says_which_stages_are_not_built_yet() -> None:
    for name in ("parse-tg",):
        assert "not built yet" in run(script(f"tk-{name}"), "--help").stdout
    assert "not built yet" not in run(script("tk-news-gate"), "--help").stdout


def test_init_writes_the_annotated_config_and_never_overwrites(bare_home: Path) -> None:
    home = bare_home
    runner = CliRunner()
    first = runner.invoke(init_cmd.app, [])
    assert first.exit_code == 0
    config = home / "config.toml"
    assert config.read_text() == (ROOT / "examples" / "config.toml").read_text()
    assert load_config(config) == Config()  # the template is valid and all defaults
    assert sorted(p.name for p in home.iterdir()) == [
        "config.toml",
        "data",
        "logs",
        "report",
        "tradekit.db",
    ]
    config.write_text("mode = 'paper'\n")
    second = runner.invoke(init_cmd.app, [])
    assert "kept (exists; --force to overwrite)" in second.stdout
    assert config.read_text() == "mode = 'paper'\n"
    forced = runner.invoke(init_cmd.app, ["--force"])
    assert "written (the old one is in config.toml.bak)" in forced.stdout
    assert config.read_text() == (ROOT / "examples" / "config.toml").read_text()
    assert (home / "config.toml.bak").read_text() == "mode = 'paper'\n"


def test_schema_check_fails_on_drift_and_write_fixes_it(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(schema_cmd.app, ["--check", str(tmp_path)]).exit_code == ExitStatus.ERROR
    assert runner.invoke(schema_cmd.app, ["--write", str(tmp_path)]).exit_code == 0
    assert runner.invoke(schema_cmd.app, ["--check", str(tmp_path)]).exit_code == 0
    printed = runner.invoke(schema_cmd.app, ["error"])
    assert printed.stdout_bytes == (ROOT / "schemas" / "error.schema.json").read_bytes()
    assert runner.invoke(schema_cmd.app, ["nope"]).exit_code == ExitStatus.USAGE


def test_status_reports_runs_and_logs(home: Path) -> None:
    (home / "config.toml").unlink()  # a home tk init made stays one (its database says so)
    run(script("tk-risk"), "--on-error", "skip", stdin=f"{SEED_PLAN}\nbad\n")
    result = CliRunner().invoke(status_cmd.app, ["--json"])
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert info["mode"] == "dry-run" and info["schemaVersion"] == SCHEMA_VERSION
    assert info["logs"] == {"decisions.jsonl": 1, "errors.jsonl": 1}
    [last] = info["runs"]
    assert (last["stage"], last["read"], last["written"], last["badLines"], last["exitStatus"]) == (
        "risk",
        2,
        1,
        1,
        65,
    )
    assert last["startedAt"] == FIXED_NOW
    assert last["state"] == "exit 65"
    assert info["config"] is None  # no config.toml: the defaults


def test_status_names_the_config_in_use(home: Path, tmp_path: Path) -> None:
    run(script("tk"), "init")
    assert CliRunner().invoke(status_cmd.app, ["--json"]).stdout.count(str(home / "config.toml"))
    other = tmp_path / "other.toml"
    other.write_text("[live]\nenabled = false\n")
    for args, env in ((["--config", str(other)], {}), ([], {"TK_CONFIG": str(other)})):
        result = CliRunner().invoke(status_cmd.app, [*args, "--json"], env=env)
        assert json.loads(result.stdout)["config"] == str(other), result.output
        text = CliRunner().invoke(status_cmd.app, args, env=env).stdout
        assert f"config    {other}\n" in text  # the plain table of a pipe


def test_status_tells_a_run_killed_by_sigkill_from_a_running_one(home: Path) -> None:
    run(script("tk"), "init")
    # tk-risk waits on a stdin that stays open: its run is recorded and still going
    waiting = subprocess.Popen(
        [script("tk-risk")], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (runs := json.loads(run(script("tk"), "status", "--json").stdout)["runs"]):
            assert time.monotonic() < deadline, "the run was never recorded"
            time.sleep(0.05)
        assert runs[0]["state"] == "running"
        assert "running" in run(script("tk"), "status").stdout
    finally:
        waiting.kill()
        waiting.wait()
    [died] = json.loads(run(script("tk"), "status", "--json").stdout)["runs"]
    assert (died["stage"], died["exitStatus"], died["state"]) == ("risk", None, "died")
    table = run(script("tk"), "status").stdout.split("recent runs\n")[1].splitlines()
    assert table == [
        "started               stage  mode     read  written  bad  state",
        f"{FIXED_NOW}  risk   dry-run     -        -    -  died",
    ]


def test_a_reused_pid_is_not_taken_for_the_run_that_died() -> None:
    from tradekit.store import RunRow, process_start_ticks

    me = os.getpid()
    started = process_start_ticks(me)
    assert started is not None  # Linux: /proc
    row = RunRow(1, "risk", "paper", FIXED_NOW, None, None, None, None, None)
    assert replace(row, pid=me, pid_started=started).state == "running"
    assert replace(row, pid=me, pid_started=started + 1).state == "died"  # another process
    assert replace(row, exit_status=0, pid=me).state == "exit 0"


def test_status_never_creates_a_home(bare_home: Path) -> None:
    result = run(script("tk"), "status")
    assert result.returncode == ExitStatus.CONFIG
    assert result.stderr == (
        f"tk status: error: TK_HOME {bare_home} was not made by `tk init`: nothing done (run "
        f"`tk init --home {bare_home}` to make it, or point --home / TK_HOME at your home)\n"
    )
    assert not bare_home.exists()


def test_bare_tk_prints_usage_on_stderr_and_options_first_get_a_hint() -> None:
    bare = run(script("tk"))
    assert (bare.returncode, bare.stdout) == (ExitStatus.USAGE, "")
    assert bare.stderr.startswith("Usage: tk COMMAND")
    early = run(script("tk"), "--home", "/tmp", "risk")
    assert early.returncode == ExitStatus.USAGE
    assert "options go after the command: tk COMMAND --home" in early.stderr


# -- config ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mode = 'paper'\nmdoe = 1\n", "mdoe: unknown key"),
        ("mode = 'fast'\n", "mode: Input should be 'dry-run' or 'paper' (got 'fast')"),
        ("mode = 'live'\n", "mode: 'live' cannot be set in the config; pass --live"),
        ("[live]\nenabled = 'yes please'\n", "live.enabled: Input should be a valid boolean"),
        ("mode = \n", "not valid TOML"),
        (
            '[guard.health]\nhost = "0.0.0.0"\n',
            "guard.health: host '0.0.0.0' is not a loopback address: /metrics and /readyz show "
            "equity and positions to whoever reaches it; set allow_remote = true to mean it\n",
        ),
        (
            "[strategies.v55]\nadx_min = 15\n",
            "strategies.v55: unknown strategy (one of: dsl, v1, v2, v3, v5)",
        ),
    ],
)
def test_config_errors_name_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value).startswith(f"{path}: ")
    assert message in str(exc.value) + "\n"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_the_guards_endpoints_bind_loopback_freely(tmp_path: Path, host: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[guard.health]\nhost = "{host}"\n')
    assert load_config(path).guard.health.host == host


def test_a_remote_health_address_must_be_meant(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[guard.health]\nhost = "192.0.2.10"\nallow_remote = true\n')
    assert load_config(path).guard.health.allow_remote


def test_the_seed_live_v5_config_is_what_the_seeds_live_script_ran() -> None:
    from tradekit.strategies.v5 import V5Params

    config = load_config(ROOT / "examples" / "v5-seed-live.toml", required=True)
    live = V5Params.model_validate(config.strategies["v5"])
    # seed000-spec §2.3: ADX_MIN 15, ENTRY_LOOKBACK 15; everything else as the JSON
    assert (live.adx_min, live.entry_lookback) == (15, 15)
    assert (V5Params().adx_min, V5Params().entry_lookback) == (18, 20)
    assert live.model_dump(exclude={"adx_min", "entry_lookback"}) == V5Params().model_dump(
        exclude={"adx_min", "entry_lookback"}
    )


def test_missing_config_means_defaults_unless_named(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml") == Config()
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "none.toml", required=True)


def test_explicit_config_option_is_used_and_must_exist(home: Path, tmp_path: Path) -> None:
    result = run(script("tk"), "status", "--config", str(tmp_path / "x.toml"))
    assert result.returncode == ExitStatus.CONFIG
    other = tmp_path / "paper.toml"
    other.write_text("mode = 'paper'\n")
    assert "mode      paper" in run(script("tk"), "status", "--config", str(other)).stdout


# -- modes ----------------------------------------------------------------------------


def test_mode_comes_from_the_flag_then_the_config_then_the_command() -> None:
    paper_config = Config(mode="paper")
    assert resolve_mode(None, Config(), {}, "dry-run").mode == "dry-run"
    assert resolve_mode(None, paper_config, {}, "dry-run").mode == "paper"
    assert resolve_mode("dry-run", paper_config, {}, "paper").mode == "dry-run"


@pytest.mark.parametrize(
    ("enabled", "env", "reason"),
    [
        (
            False,
            {},
            "[live] enabled is false in the config; missing or unusable BITGET_API_KEY, "
            "BITGET_API_SECRET, BITGET_API_PASSPHRASE in the environment",
        ),
        (
            True,
            {},
            "missing or unusable BITGET_API_KEY, BITGET_API_SECRET, BITGET_API_PASSPHRASE "
            "in the environment",
        ),
        (False, CREDS, "[live] enabled is false in the config"),
        (
            True,
            {**CREDS, "BITGET_API_PASSPHRASE": ""},
            "missing or unusable BITGET_API_PASSPHRASE in the environment",
        ),
        (True, {**CREDS, "BITGET_API_KEY": "   "}, "missing or unusable BITGET_API_KEY in the "
         "environment"),
        (True, {**CREDS, "BITGET_API_SECRET": "short"}, "missing or unusable BITGET_API_SECRET "
         "in the environment"),
    ],
)  # fmt: skip
def test_live_that_cannot_be_used_is_refused_naming_each_condition(
    enabled: bool, env: dict[str, str], reason: str
) -> None:
    config = Config(live=LiveConfig(enabled=enabled))
    with pytest.raises(ConfigError) as refused:
        resolve_mode("live", config, env, "dry-run")
    assert str(refused.value) == f"--live refused: {reason}"
    assert refused.value.status == ExitStatus.CONFIG


def test_live_with_the_flag_the_config_and_credentials() -> None:
    choice = resolve_mode("live", Config(live=LiveConfig(enabled=True)), CREDS, "dry-run")
    assert (choice.mode, choice.requested) == ("live", "live")


def test_config_alone_never_goes_live() -> None:
    choice = resolve_mode(None, Config(live=LiveConfig(enabled=True)), CREDS, "dry-run")
    assert choice.mode == "dry-run"


def test_mode_flags_are_exclusive(home: Path) -> None:
    result = run(script("tk-exec"), "--paper", "--live")
    assert result.returncode == ExitStatus.USAGE
    assert "choose one of --dry-run, --paper, --live" in result.stderr


@pytest.mark.parametrize("value", ['"yes"', "1", '"true"', '"on"'])
def test_live_switch_accepts_only_a_real_boolean(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[live]\nenabled = {value}\n")
    with pytest.raises(ConfigError, match=r"live\.enabled: Input should be a valid boolean"):
        load_config(path)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1763632800", "too small for epoch milliseconds (seconds? use 1763632800000)"),
        ("99999999999999999999", "out of range for epoch milliseconds"),
        ("garbage", "is not a time"),
    ],
)
def test_bad_now_is_a_usage_error_without_traceback(home: Path, value: str, message: str) -> None:
    result = run(script("tk-risk"), "--now", value)
    assert result.returncode == ExitStatus.USAGE
    assert message in result.stderr and "Traceback" not in result.stderr


#: a line of the config template that shows a table or a key (commented out or not)
_SHOWN = re.compile(r"^(?:# )?((\[[a-z_.0-9]+\])|([a-z_0-9]+) = .*?)(\s+#.*)?$")


def _uncommented_template() -> dict:
    """The config template with every commented example switched on."""
    import tomllib

    lines = []
    for line in (ROOT / "examples" / "config.toml").read_text().splitlines():
        match = _SHOWN.match(line)
        lines.append(match.group(1) if match else line)
    return tomllib.loads("\n".join(lines), parse_float=Decimal)  # as load_config reads it


def _shown_keys() -> list[tuple[tuple[str, ...], str, bool]]:
    """(table, key, marked "example") for every `key = value` line the template shows."""
    table: tuple[str, ...] = ()
    shown = []
    for line in (ROOT / "examples" / "config.toml").read_text().splitlines():
        match = _SHOWN.match(line)
        if match and match.group(2):
            table = tuple(match.group(2).strip("[]").split("."))
        elif match:
            comment = (match.group(4) or "").strip()
            shown.append((table, match.group(3), comment.startswith("# example")))
    return shown


def test_the_config_template_documents_every_setting_with_valid_examples() -> None:
    from pydantic import BaseModel

    values = _uncommented_template()
    Config.model_validate({k: v for k, v in values.items() if k != "mode"})  # no error

    def missing(model: type[BaseModel], table: dict, where: str) -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            if name not in table:
                out.append(f"{where}{name}")
            elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                out += missing(field.annotation, table[name], f"{where}{name}.")
        return out

    assert missing(Config, values, "") == []


def test_every_value_the_config_template_shows_is_the_default() -> None:
    """The template says a shown value is the default: for every key of every table
    (strategies' parameters included), the value it shows, read as the settings models read
    it, equals the model's default; a key marked "example" has no default (unset)."""
    from pydantic import BaseModel

    from tradekit.strategies import load

    values = _uncommented_template()
    shown_config, default_config = Config.model_validate(values), Config()

    def models(table: tuple[str, ...]) -> tuple[BaseModel, BaseModel]:
        if table[:1] == ("strategies",):
            params = load(table[1]).params_model
            return params.model_validate(values["strategies"][table[1]]), params()
        shown, default = shown_config, default_config
        for name in table:
            shown, default = getattr(shown, name), getattr(default, name)
        return shown, default

    wrong, checked = [], 0
    for table, key, example in _shown_keys():
        shown, default = (getattr(model, key) for model in models(table))
        where = ".".join((*table, key))
        if example and default is not None:
            wrong.append(f"{where}: marked example but its default is {default!r}")
        elif not example and shown != default:
            wrong.append(f"{where}: the template shows {shown!r}, the default is {default!r}")
        checked += 1
    assert wrong == []
    assert checked > 100  # every table was read (a format change would read none)


def test_every_execution_status_is_explained_in_the_readme_and_the_help() -> None:
    from typing import get_args

    from tradekit.records.plan import ExecutionStatus

    section = README.split("## Risk and execution\n", 1)[1].split("\n## ", 1)[0]
    help_text = " ".join(run(script("tk-exec"), "--help").stdout.split())
    for status in get_args(ExecutionStatus):
        assert f"`{status}`" in section, status
        assert status in help_text, status

"""tk status: where TK_HOME is, which mode a run would use, and how recent runs ended."""

from typing import Annotated, Any

import typer

from tradekit import jsonio
from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, common_options
from tradekit.exitstatus import ExitStatus
from tradekit.store import Store

PROG = "tk status"
SUMMARY = "Show TK_HOME, the mode a run would use, the audit logs and the last runs."
HELP = f"""{SUMMARY}

The config shown is the one a command run the same way would use (--config, TK_CONFIG, else
HOME/config.toml). Each run ends as `exit N`, or is `running` while its process lives, or
`died` when its process is gone without recording an end (killed by SIGKILL, a reboot).

With --paper or --live it shows the mode a run given that flag would use: --live that
cannot be used exits 78 naming each missing condition, as every command does (bin/tk-cycle
checks its mode this way before it starts the pipe). A home `tk init` did not make is
refused (exit 78) and left as it is.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
def status(
    common: CommonOptions,
    runs: Annotated[int, typer.Option("--runs", min=0, help="How many recent runs.")] = 10,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    def body() -> ExitStatus:
        session = Session.open(PROG, common)
        home = session.home
        with Store(home.db_file, session.redactor) as store:
            recent = store.recent_runs(runs)
            version = store.schema_version
        logs = {
            path.name: sum(1 for _ in path.open("rb")) for path in sorted(home.logs.glob("*.jsonl"))
        }
        # the file this command's settings came from: --config / TK_CONFIG, else the home's
        config_file = common.config_file or (
            home.config_file if home.config_file.exists() else None
        )
        info: dict[str, Any] = {
            "home": str(home.root.resolve()),
            "config": str(config_file) if config_file is not None else None,
            "mode": session.mode.mode,
            "liveEnabled": session.config.live.enabled,
            "schemaVersion": version,
            "logs": logs,
            "runs": [
                {
                    "stage": run.stage,
                    "mode": run.mode,
                    "startedAt": run.started_at,
                    "read": run.records_read,
                    "written": run.records_written,
                    "badLines": run.bad_lines,
                    "exitStatus": run.exit_status,
                    "state": run.state,
                }
                for run in recent
            ],
        }
        if json_output:
            typer.echo(jsonio.dumps(info).decode())
            return ExitStatus.OK
        from tradekit.cli.tables import Column, Table, show

        about = Table((Column("TK_HOME"), Column(info["home"])))
        about.add("config", info["config"] or "(none: defaults; `tk init` writes one)")
        about.add("mode", f"{info['mode']} (live enabled: {str(info['liveEnabled']).lower()})")
        about.add("database", f"schema v{version}")
        tables = [about]
        if logs:
            trails = Table((Column("log"), Column("lines", numeric=True)))
            for name, lines in logs.items():
                trails.add(name, lines)
            tables.append(trails)
        if recent:
            done = Table(
                (Column("started"), Column("stage"), Column("mode"), Column("read", numeric=True),
                 Column("written", numeric=True), Column("bad", numeric=True), Column("state")),
                title="recent runs",
            )  # fmt: skip
            for run in recent:
                done.add(
                    run.started_at, run.stage, run.mode, run.records_read, run.records_written,
                    run.bad_lines, run.state,
                )  # fmt: skip
            tables.append(done)
        show(*tables)
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)

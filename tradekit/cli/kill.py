"""tk kill: the kill switch (safe mode, panic) kept in the database."""

from typing import Annotated, Literal

import typer

from tradekit import jsonio
from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.exitstatus import ExitStatus

PROG = "tk kill"
SUMMARY = "Set, clear or show the kill switch: safe mode blocks entries, panic closes all."
HELP = f"""{SUMMARY}

  tk kill safe     no new entries (tk-risk blocks them); closes and manage plans go on
  tk kill panic    tk-guard cancels every order and closes every position at its next run,
                   then the switch stays at safe until you clear it
  tk kill off      clear the database switch
  tk kill status   the switch and where it comes from

The switch can also be the file HOME/KILL_SWITCH (empty or "safe", or "panic") or the
environment variable TK_KILL_SWITCH=safe|panic; the strictest of the three wins, and
`tk kill off` clears only the database one (status says which others are set).
"""

app = new_app(HELP)
Action = Literal["safe", "panic", "off", "status"]


@app.command(help=HELP)
@modeless_options
def kill(
    common: CommonOptions,
    action: Annotated[Action, typer.Argument(help="safe, panic, off or status")] = "status",
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    def body() -> ExitStatus:
        from tradekit.killswitch import FLAG, kill_sources, kill_state
        from tradekit.store import Store

        session = Session.open(PROG, common)
        with Store(session.home.db_file, session.redactor) as store:
            if action in ("safe", "panic"):
                store.set_flag(FLAG, action, session.clock.now())
            elif action == "off":
                store.delete_flag(FLAG)
            flag = store.get_flag(FLAG)
        state, source = kill_state(session.home.root, flag)
        sources = kill_sources(session.home.root, flag)
        if json_output:
            info = {"state": state, "source": source or None, "sources": sources}
            typer.echo(jsonio.dumps(info).decode())
        else:
            typer.echo(f"kill switch: {state}" + (f" ({source})" if source else ""))
            for where, value in sources.items():
                typer.echo(f"  {where}: {value}")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)

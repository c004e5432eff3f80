"""tk init: create TK_HOME with an annotated config.toml and an empty database."""

from typing import Annotated

import typer

from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.errors import ConfigError
from tradekit.exitstatus import ExitStatus
from tradekit.home import initialise

PROG = "tk init"
SUMMARY = "Create TK_HOME: an annotated config.toml, the database and the log folders."
HELP = f"""{SUMMARY}

Never overwrites an existing config.toml unless --force is given. Running it again on a
home keeps the database and the logs as they are. The commands that trade or read the
state (tk-risk, tk-exec, tk-guard, tk paper, ...) refuse a home tk init did not make.
"""

app = new_app(HELP)


@app.command(help=HELP)
@modeless_options
def init(
    common: CommonOptions,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite config.toml (keeping it as config.toml.bak)."),
    ] = False,
) -> None:
    def body() -> ExitStatus:
        session = Session.open(PROG, common, home_use="init")
        home = session.home
        try:
            done = initialise(home, session.clock.now(), session.redactor, force=force)
        except OSError as exc:
            raise ConfigError(f"TK_HOME {home.root}: cannot make it: {exc.strerror}") from None
        if not done.config_written:
            config_state = "kept (exists; --force to overwrite)"
        elif done.config_existed:
            config_state = f"written (the old one is in {home.config_backup.name})"
        else:
            config_state = "written"
        typer.echo(f"home      {home.root.resolve()}")
        typer.echo(f"config    {home.config_file}  {config_state}")
        typer.echo(f"database  {home.db_file}  schema v{done.schema_version}")
        typer.echo(f"logs      {home.logs}/")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)

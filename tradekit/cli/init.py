"""tk init: create TK_HOME with an annotated config.toml and an empty database."""

from typing import Annotated

import typer

from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, common_options
from tradekit.exitstatus import ExitStatus
from tradekit.store import Store

PROG = "tk init"
SUMMARY = "Create TK_HOME: an annotated config.toml, the database and the log folders."
HELP = f"""{SUMMARY}

Never overwrites an existing config.toml unless --force is given.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
def init(
    common: CommonOptions,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite config.toml (keeping it as config.toml.bak)."),
    ] = False,
) -> None:
    def body() -> ExitStatus:
        session = Session.open(PROG, common, announce_new_home=False)
        home = session.home
        existed = home.config_file.exists()
        wrote = home.write_config_template(force=force)
        with Store(home.db_file, session.redactor) as store:
            version = store.schema_version
        if not wrote:
            config_state = "kept (exists; --force to overwrite)"
        elif existed:
            config_state = f"written (the old one is in {home.config_backup.name})"
        else:
            config_state = "written"
        typer.echo(f"home      {home.root.resolve()}")
        typer.echo(f"config    {home.config_file}  {config_state}")
        typer.echo(f"database  {home.db_file}  schema v{version}")
        typer.echo(f"logs      {home.logs}/")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)

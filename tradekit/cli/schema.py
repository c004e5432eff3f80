"""tk schema: print, write or check the JSON Schemas of the record kinds."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from tradekit import schemas
from tradekit.cli.base import guarded, new_app, run_app
from tradekit.errors import UsageError
from tradekit.exitstatus import ExitStatus
from tradekit.records import RECORD_KINDS

PROG = "tk schema"
SUMMARY = "Print, write or check the JSON Schemas generated from the record models."
HELP = f"""{SUMMARY}

\b
    tk schema                      the TradePlan v1 schema on stdout
    tk schema error                another kind: {", ".join(RECORD_KINDS)}
    tk schema --write schemas/     (re)write every kind's file
    tk schema --check schemas/     exit 1 if a file differs from the models
"""

app = new_app(HELP)


@app.command(help=HELP)
def schema(
    kind: Annotated[str, typer.Argument(help="Record kind to print.")] = "tradeplan.v1",
    write: Annotated[
        Path | None, typer.Option("--write", metavar="DIR", help="Write all schemas to DIR.")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", metavar="DIR", help="Compare DIR with the models."),
    ] = None,
) -> None:
    def body() -> ExitStatus:
        if write is not None:
            try:
                written = schemas.write_all(write)
            except OSError as exc:
                raise UsageError(f"cannot write schemas to {write}: {exc.strerror}") from None
            for path in written:
                typer.echo(f"wrote {path}")
            return ExitStatus.OK
        if check is not None:
            if not check.is_dir():
                raise UsageError(f"{check}: no such directory")
            stale = schemas.drifted(check)
            for kind_name in stale:
                typer.echo(
                    f"{schemas.schema_path(check, kind_name)}: differs from the models; "
                    f"run `tk schema --write {check}`",
                    err=True,
                )
            return ExitStatus.ERROR if stale else ExitStatus.OK
        if kind not in RECORD_KINDS:
            raise UsageError(f"unknown record kind {kind!r}; one of {', '.join(RECORD_KINDS)}")
        sys.stdout.buffer.write(schemas.render(kind))
        return ExitStatus.OK

    guarded(PROG, 0, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)

"""Human messages on stderr: rich colours on a terminal, plain lines otherwise.

Every message passes through the redactor. `-q` hides warnings and notes, `-v` adds
detail, errors are always shown.
"""

from __future__ import annotations

import os
from typing import TextIO

from tradekit.records import ErrorRecord
from tradekit.redact import Redactor

_STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan", "detail": "dim"}


def styled(stream: TextIO) -> bool:
    """Whether what goes to this stream is drawn by rich (colours, tables): on a terminal,
    or anywhere with FORCE_COLOR set; never with TERM=dumb. NO_COLOR (read by rich) keeps
    the drawing and takes the colours away."""
    if os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Reporter:
    def __init__(
        self, stream: TextIO, prog: str, *, verbosity: int = 0, redactor: Redactor | None = None
    ):
        self.stream = stream
        self.prog = prog
        self.verbosity = verbosity
        self._redactor = redactor or Redactor()
        self._console = None
        self._tty = styled(stream)

    def _emit(self, level: str, message: str) -> None:
        text = self._redactor.text(message)
        if self._tty:
            if self._console is None:
                from rich.console import Console

                self._console = Console(file=self.stream, highlight=False, soft_wrap=True)
            from rich.markup import escape

            self._console.print(
                f"[bold]{escape(self.prog)}[/]: [{_STYLES[level]}]{level}[/]: {escape(text)}"
            )
        else:
            self.stream.write(f"{self.prog}: {level}: {text}\n")
            self.stream.flush()

    def error(self, message: str) -> None:
        self._emit("error", message)

    def warning(self, message: str) -> None:
        if self.verbosity >= 0:
            self._emit("warning", message)

    def note(self, message: str) -> None:
        if self.verbosity >= 0:
            self._emit("note", message)

    def detail(self, message: str) -> None:
        if self.verbosity >= 1:
            self._emit("detail", message)

    def bad_line(self, error: ErrorRecord) -> None:
        where = f"{error.source}:{error.line}"
        self.error(f"{where}: {error.error}; input: {error.input}")

"""Human messages on stderr: rich colours on a terminal, plain lines otherwise.

Every message passes through the redactor. `-q` hides warnings and notes, `-v` adds
detail, errors are always shown.
"""

from __future__ import annotations

from typing import TextIO

from tradekit.records import ErrorRecord
from tradekit.redact import Redactor

_STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan", "detail": "dim"}


class Reporter:
    def __init__(
        self, stream: TextIO, prog: str, *, verbosity: int = 0, redactor: Redactor | None = None
    ):
        self.stream = stream
        self.prog = prog
        self.verbosity = verbosity
        self._redactor = redactor or Redactor()
        self._console = None
        try:
            self._tty = stream.isatty()
        except (AttributeError, ValueError):
            self._tty = False

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

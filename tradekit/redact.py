"""Keep secrets out of everything we write.

Secrets come only from the environment. Every writer (stdout records, stderr messages,
audit logs, the database) passes its bytes through one Redactor, which replaces the value
of every secret-looking environment variable, in raw and JSON-escaped form.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping

#: Environment variables whose values are secrets, whatever their length.
KNOWN_SECRET_VARS = (
    "BITGET_API_KEY",
    "BITGET_API_SECRET",
    "BITGET_API_PASSPHRASE",
    "TELEGRAM_API_HASH",  # tk tg listen's account
)
#: Any other variable whose name ends like this is treated as a secret too.
SECRET_NAME = re.compile(r"(^|_)(API_?KEY|KEY|SECRET|PASSPHRASE|PASSWORD|PASSWD|TOKEN)$", re.I)
#: Values shorter than this cannot be masked without corrupting ordinary text ("long",
#: "0", " "): they are not treated as secrets, and live mode refuses such credentials.
MIN_SECRET_LENGTH = 6
#: Pattern-matched variables (FOO_TOKEN) must be longer still to count.
MIN_GUESSED_SECRET_LENGTH = 8
MASK = "[redacted]"


def secret_values(environ: Mapping[str, str]) -> list[str]:
    found: set[str] = set()
    for name, value in environ.items():
        if len(value.strip()) < MIN_SECRET_LENGTH:
            continue
        if name in KNOWN_SECRET_VARS or (
            SECRET_NAME.search(name) and len(value) >= MIN_GUESSED_SECRET_LENGTH
        ):
            found.add(value)
    # Longest first, so a secret that contains another is masked whole.
    return sorted(found, key=len, reverse=True)


#: an escaped backslash (kept as it is, so what follows it is not read as an escape), a
#: \uXXXX escape, or an escaped slash
_NEEDLESS_ESCAPE = re.compile(rb"\\\\|\\u([0-9a-fA-F]{4})|\\/")


def _spelled_out(match: re.Match[bytes]) -> bytes:
    """The character an escape stands for, where JSON lets it stand as itself (not a quote,
    a backslash, a control character or half of a surrogate pair); else the escape."""
    escape = match.group(0)
    if escape == b"\\/":
        return b"/"
    if match.group(1) is None:
        return escape
    char = chr(int(match.group(1), 16))
    if char in '"\\' or not char.isprintable() or "\ud800" <= char <= "\udfff":
        return escape
    return char.encode("utf-8")


def _escape(text: str, *, ascii_only: bool) -> str:
    return json.dumps(text, ensure_ascii=ascii_only)[1:-1]


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[bytes] = set()
        for secret in secrets:
            if len(secret.strip()) < MIN_SECRET_LENGTH:
                continue
            # The secret as written raw, inside a JSON string, and inside a JSON string
            # that is itself inside a JSON string (an error record quoting a bad line).
            once = {secret, _escape(secret, ascii_only=False), _escape(secret, ascii_only=True)}
            twice = {_escape(form, ascii_only=a) for form in once for a in (False, True)}
            forms |= {form.encode("utf-8") for form in once | twice}
        self._forms = sorted(forms, key=len, reverse=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        return cls(secret_values(os.environ if environ is None else environ))

    def __bool__(self) -> bool:
        return bool(self._forms)

    def bytes(self, data: bytes) -> bytes:
        if self._forms and data.find(b"\\") >= 0:
            # a secret spelled with escapes JSON does not need ("\u0068unter2", "a\/b")
            # is the same string to every reader: spell those characters out first
            data = _NEEDLESS_ESCAPE.sub(_spelled_out, data)
        for form in self._forms:
            if form in data:
                data = data.replace(form, MASK.encode())
        return data

    def text(self, data: str) -> str:
        if not self._forms:
            return data
        return self.bytes(data.encode("utf-8")).decode("utf-8")

"""GET with a total deadline and a polite user agent; every failure is a SourceError whose
text never carries the query string (where API tokens live), and a redirect to another
host never carries the Authorization header."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tradekit.news.model import SourceError

MAX_BYTES = 5_000_000
CHUNK = 65_536


def user_agent() -> str:
    from tradekit import __version__

    return f"tradekit/{__version__} (news gate; polite: one request per source per fetch)"


def public_url(url: str) -> str:
    """The URL without its query and credentials: safe to print."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return "<an unreadable URL>"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def get(url: str, *, timeout: float, headers: dict[str, str] | None = None) -> bytes:
    """The body at `url`, within `timeout` seconds in all (not per read)."""
    shown = public_url(url)
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(f"not an http(s) URL: {shown}")
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_SameHostAuthRedirects())
    try:
        request = urllib.request.Request(
            url, headers={"User-Agent": user_agent(), **(headers or {})}
        )
        with opener.open(request, timeout=timeout) as response:
            chunks, size = [], 0
            read = getattr(response, "read1", response.read)  # what has come, not all of it
            while chunk := read(CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SourceError(f"fetch failed: {shown}: larger than {MAX_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise SourceError(f"fetch failed: {shown}: took longer than {timeout:g} s")
    except SourceError:
        raise
    except urllib.error.HTTPError as exc:
        raise SourceError(f"fetch failed: HTTP {exc.code} from {shown}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = str(getattr(exc, "reason", None) or exc or type(exc).__name__)
        if "?" in reason or "/" in reason:
            reason = type(exc).__name__  # it may quote the URL, with its query
        raise SourceError(f"fetch failed: {shown}: {reason}") from None
    except Exception as exc:  # a malformed URL, a protocol error: never its text (the query)
        raise SourceError(f"fetch failed: {shown}: {type(exc).__name__}") from None
    return b"".join(chunks)


class _SameHostAuthRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917 - the stdlib's signature
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new

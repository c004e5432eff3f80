"""GET with a timeout and a polite user agent; every failure is a SourceError whose text
never carries the query string (where API tokens live)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from tradekit.news.model import SourceError

MAX_BYTES = 5_000_000


def user_agent() -> str:
    from tradekit import __version__

    return f"tradekit/{__version__} (news gate; polite: one request per source per fetch)"


def public_url(url: str) -> str:
    """The URL without its query and credentials: safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def get(url: str, *, timeout: float, headers: dict[str, str] | None = None) -> bytes:
    import urllib.error
    import urllib.request

    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(f"not an http(s) URL: {public_url(url)}")
    request = urllib.request.Request(url, headers={"User-Agent": user_agent(), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise SourceError(f"fetch failed: HTTP {exc.code} from {public_url(url)}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(f"fetch failed: {public_url(url)}: {reason}") from None
    if len(body) > MAX_BYTES:
        raise SourceError(f"fetch failed: {public_url(url)}: larger than {MAX_BYTES} bytes")
    return body

"""One OpenAI-compatible client (the `openai` SDK with `base_url`) for the vision and the
text model: the key from the environment variable the config names, timeouts, the SDK's
retries with backoff (Retry-After honoured), a per-minute budget, strict structured output
with a `json_object` fallback for providers without it, sanitised text, and answers cached
in SQLite by (message, version, model, prompt version). Any failure is a needs-manual
verdict with its reason, never an exception to the caller."""

from __future__ import annotations

import base64
import json
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from tradekit.errors import ConfigError
from tradekit.records import TelegramMessage
from tradekit.redact import Redactor, secret_values
from tradekit.store import Store
from tradekit.telegram.models.gates import PROMPT_VERSION, SCHEMA, Verdict, judge
from tradekit.telegram.models.settings import ModelSettings

MAX_TEXT = 4000
#: what looks like a credential in a post: masked before any text leaves the machine
CREDENTIAL = re.compile(
    r"(?i)\b(?:api[_-]?key|secret|token|password|passphrase)\b\s*[:=]\s*\S+"
    r"|\bsk-[A-Za-z0-9_-]{16,}|\b[A-Fa-f0-9]{32,}\b|\bBearer\s+\S+"
)
PROMPT = (
    "You read one Telegram post of a crypto futures signal channel (text, and maybe an "
    "image) and extract the trade plan it states, if any. For every field you fill, quote "
    "the evidence verbatim (at most 30 characters) and say whether it is in the text, the "
    "image or both. Never guess: leave a field null and list it in uncertain_fields. "
    "safety.should_trade is always NO_DECISION. Answer with JSON only, matching this "
    "schema: "
)


def sanitise(text: str, redactor: Redactor) -> str:
    """The text a model may see: known secrets and credential-looking strings masked, cut
    to 4,000 characters."""
    return CREDENTIAL.sub("[redacted]", redactor.text(text))[:MAX_TEXT]


class Budget:
    """At most `per_minute` requests in any 60 s."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.clock, self.sent = per_minute, clock, deque[float]()

    def take(self) -> bool:
        now = self.clock()
        while self.sent and now - self.sent[0] >= 60:
            self.sent.popleft()
        if len(self.sent) >= self.per_minute:
            return False
        self.sent.append(now)
        return True


class ModelClient:
    def __init__(
        self,
        settings: ModelSettings,
        environ: Mapping[str, str],
        store: Store | None = None,
        *,
        budget: Budget | None = None,
    ):
        from openai import OpenAI

        key = environ.get(settings.api_key_env, "").strip()
        if not key:
            raise ConfigError(f"the model {settings.model!r} needs {settings.api_key_env} set")
        self.settings, self.store = settings, store
        self.redactor = Redactor([key, *secret_values(environ)])
        self.budget = budget or Budget(settings.requests_per_minute)
        self.client = OpenAI(
            base_url=settings.base_url, api_key=key, timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )  # fmt: skip

    def extract(self, record: TelegramMessage, image: bytes | None = None) -> Verdict:
        text = sanitise(record.text, self.redactor)
        cached = self._cached(record)
        if cached is not None:
            return judge(cached, record.text, self.settings.confidence_threshold)
        if not self.budget.take():
            return Verdict.manual(
                f"model budget of {self.settings.requests_per_minute} requests a minute used up"
            )
        try:
            answer = self._ask(text, image)
        except Exception as exc:  # every model failure is needs-manual, with its reason
            return Verdict.manual(f"model error: {self.redactor.text(_describe(exc))}")
        if answer.startswith("refused: "):
            return Verdict.manual(f"the model refused: {answer.removeprefix('refused: ')}")
        self._cache(record, answer)
        return judge(answer, record.text, self.settings.confidence_threshold)

    def _ask(self, text: str, image: bytes | None) -> str:
        from openai import BadRequestError

        content: list[dict[str, Any]] = [{"type": "text", "text": text or "(no text)"}]
        if image is not None:
            url = "data:image/jpeg;base64," + base64.b64encode(image).decode()
            content.append({"type": "image_url", "image_url": {"url": url}})
        messages = [
            {"role": "system", "content": PROMPT + json.dumps(SCHEMA)},
            {"role": "user", "content": content},
        ]
        strict = {
            "type": "json_schema",
            "json_schema": {"name": "trade_plan", "strict": True, "schema": SCHEMA},
        }
        try:
            return self._complete(messages, strict)
        except BadRequestError as exc:  # a provider without structured output
            if "response_format" not in str(exc) and "json_schema" not in str(exc):
                raise
            return self._complete(messages, {"type": "json_object"})

    def _complete(self, messages: list[dict[str, Any]], response_format: dict) -> str:
        response = self.client.chat.completions.create(
            model=self.settings.model, messages=messages,  # type: ignore[arg-type]
            response_format=response_format, temperature=0,  # type: ignore[arg-type]
        )  # fmt: skip
        choice = response.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal or choice.finish_reason == "content_filter":
            return f"refused: {refusal or 'content filter'}"
        return choice.message.content or ""

    def _cached(self, record: TelegramMessage) -> str | None:
        if self.store is None:
            return None
        row = self.store.db.execute(
            "SELECT answer FROM tg_model_cache WHERE channel=? AND message_id=? AND version=? "
            "AND model=? AND prompt_version=?",
            (record.channel, record.message_id, record.version, self.settings.model,
             PROMPT_VERSION),
        ).fetchone()  # fmt: skip
        return None if row is None else str(row[0])

    def _cache(self, record: TelegramMessage, answer: str) -> None:
        if self.store is None:
            return
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO tg_model_cache (channel, message_id, version, model, "
                "prompt_version, answer, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.channel, record.message_id, record.version, self.settings.model,
                 PROMPT_VERSION, answer, int(time.time() * 1000)),
            )  # fmt: skip


def _describe(exc: Exception) -> str:
    from openai import APIStatusError, APITimeoutError

    if isinstance(exc, APITimeoutError):
        return "timed out"
    if isinstance(exc, APIStatusError):
        return f"HTTP {exc.status_code}"
    return f"{type(exc).__name__}: {exc}"

"""The vision/text model client and its gates, against a local OpenAI-compatible server
scripted per case: a good extraction, a field without evidence, evidence not in the text,
low confidence, malformed JSON, a refusal, 429 then success, a timeout, a provider without
structured output. No test reaches the internet."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tradekit.errors import ConfigError
from tradekit.records import TelegramMessage
from tradekit.redact import Redactor
from tradekit.store import Store
from tradekit.telegram.models.client import Budget, ModelClient, sanitise
from tradekit.telegram.models.settings import ModelSettings

KEY = "nvapi-test-key-0123456789"
POST = TelegramMessage(
    channel="signaldesk", message_id=1815, date="2026-11-19T08:22:19Z",
    text="#TIA/USDT 🟢 LONG\nEntry: 6.12 - 5.95\n🎯 TP: 6.35, 6.60\n🛑 SL: 5.70\n⚡️ Leverage: 10x",
    image_url="https://cdn.example.invalid/file/sd-1815-tia.jpg",
)  # fmt: skip


def evidence(snippet: str, source: str = "text") -> dict[str, str]:
    return {"snippet": snippet, "source": source}


def extraction(**changes: Any) -> dict[str, Any]:
    fields = {
        "symbol": {"value": "TIAUSDT", "evidence": evidence("#TIA/USDT")},
        "side": {"value": "long", "evidence": evidence("LONG")},
        "entry": {"value": [6.12, 5.95], "evidence": evidence("Entry: 6.12 - 5.95")},
        "stop_loss": {"value": 5.70, "evidence": evidence("SL: 5.70")},
        "take_profits": {"value": [6.35, 6.60], "evidence": evidence("TP: 6.35, 6.60")},
        "leverage": {"value": 10, "evidence": evidence("Leverage: 10x", "both")},
    }
    fields.update(changes.pop("fields", {}))
    return {"is_signal": True, "fields": fields, "uncertain_fields": [],
            "extraction_warnings": [], "confidence": 0.93,
            "safety": {"should_trade": "NO_DECISION"}, **changes}  # fmt: skip


def completion(content: str | None, *, refusal: str | None = None) -> dict[str, Any]:
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip


class ModelServer(ThreadingHTTPServer):
    """POST /v1/chat/completions answers from `script`: (status, headers, JSON body, delay)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[tuple[int, dict[str, str], Any, float]] = []
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version: ClassVar[str] = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.bodies.append(json.loads(self.rfile.read(length)))
        self.server.auth.append(self.headers.get("Authorization", ""))
        status, headers, body, delay = self.server.script.pop(0)
        time.sleep(delay)
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json",
                           "Content-Length": str(len(data)), **headers}.items():  # fmt: skip
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)  # the client may have given up (the timeout case)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ModelServer]:
    model = ModelServer()
    threading.Thread(target=model.serve_forever, daemon=True).start()
    yield model
    model.shutdown()
    model.server_close()


def client(server: ModelServer, store: Store | None = None, **settings: Any) -> ModelClient:
    config = ModelSettings.model_validate({
        "enabled": True, "base_url": server.url, "model": "vision-test",
        "api_key_env": "TEST_MODEL_KEY", "timeout_seconds": 2.0, "max_retries": 0, **settings,
    })  # fmt: skip
    return ModelClient(config, {"TEST_MODEL_KEY": KEY}, store)


def answer(server: ModelServer, content: Any, status: int = 200, **extra: Any) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    server.script.append((status, extra.get("headers", {}), completion(text), 0.0))


def test_a_good_extraction_passes_with_its_fields(server: ModelServer) -> None:
    answer(server, extraction())
    verdict = client(server).extract(POST, image=b"\xff\xd8\xff jpeg")
    assert (verdict.ok, verdict.reasons, verdict.confidence) == (True, [], 0.93)
    assert verdict.fields["stop_loss"] == 5.70 and verdict.fields["symbol"] == "TIAUSDT"
    sent = server.bodies[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["messages"][1]["content"][1]["image_url"]["url"].startswith(
        "data:image/jpeg;base64,"
    )
    assert server.auth == [f"Bearer {KEY}"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"fields": {"stop_loss": {"value": 5.5, "evidence": None}}}, "stop_loss: no evidence"),
        ({"fields": {"stop_loss": {"value": 5.5, "evidence": evidence("SL: 5.50")}}},
         "stop_loss: evidence 'SL: 5.50' is not in the post's text"),
        ({"confidence": 0.55}, "confidence 0.55 below the threshold 0.8"),
        ({"uncertain_fields": ["stop_loss"]},
         "critical field missing or uncertain: stop_loss"),
        ({"safety": {"should_trade": "YES"}},
         "the model's answer does not match the schema: safety.should_trade must be "
         "NO_DECISION (the model never decides)"),
    ],
)  # fmt: skip
def test_an_unproven_answer_is_needs_manual_with_the_reason(
    server: ModelServer, changes: dict[str, Any], reason: str
) -> None:
    answer(server, extraction(**changes))
    verdict = client(server).extract(POST)
    assert not verdict.ok and reason in verdict.reasons


def test_an_uncertain_critical_field_caps_confidence_at_0_6(server: ModelServer) -> None:
    answer(server, extraction(uncertain_fields=["side"], confidence=0.99))
    verdict = client(server).extract(POST)
    assert verdict.confidence == 0.6
    assert "confidence 0.6 below the threshold 0.8" in verdict.reasons


def test_an_image_sourced_snippet_need_not_be_in_the_text(server: ModelServer) -> None:
    fields = {"stop_loss": {"value": 5.7, "evidence": evidence("stop 5.70 (chart)", "image")}}
    answer(server, extraction(fields=fields))
    assert client(server).extract(POST).ok


def test_malformed_json_is_needs_manual(server: ModelServer) -> None:
    answer(server, '{"is_signal": true, "fields": ')
    verdict = client(server).extract(POST)
    assert not verdict.ok and verdict.reasons[0].startswith("the model's answer is not JSON")


def test_a_refusal_is_needs_manual(server: ModelServer) -> None:
    server.script.append((200, {}, completion(None, refusal="I can't help with trading."), 0))
    verdict = client(server).extract(POST)
    assert verdict.reasons == ["the model refused: I can't help with trading."]


def test_429_then_success_is_retried_after_retry_after(server: ModelServer) -> None:
    server.script.append((429, {"Retry-After": "1"}, {"error": {"message": "slow"}}, 0))
    answer(server, extraction())
    started = time.monotonic()
    verdict = client(server, max_retries=2).extract(POST)
    assert verdict.ok and len(server.bodies) == 2
    assert time.monotonic() - started >= 0.9


def test_a_timeout_is_needs_manual(server: ModelServer) -> None:
    server.script.append((200, {}, completion(json.dumps(extraction())), 3.0))
    verdict = client(server, timeout_seconds=0.5).extract(POST)
    assert verdict.reasons == ["model error: timed out"]


def test_a_provider_without_structured_output_gets_json_object(server: ModelServer) -> None:
    error = {"error": {"message": "response_format json_schema is not supported"}}
    server.script.append((400, {}, error, 0))
    answer(server, extraction())
    assert client(server).extract(POST).ok
    assert [b["response_format"]["type"] for b in server.bodies] == ["json_schema", "json_object"]


def test_answers_are_cached_by_message_version_model_and_prompt(
    server: ModelServer, tmp_path: Path
) -> None:
    answer(server, extraction())
    with Store(tmp_path / "db") as store:
        model = client(server, store)
        assert model.extract(POST).ok and model.extract(POST).ok
        assert len(server.bodies) == 1
        answer(server, extraction(confidence=0.5))
        edited = POST.model_copy(update={"version": 2, "is_edit": True, "event": "edit"})
        assert not model.extract(edited).ok and len(server.bodies) == 2


def test_the_per_minute_budget(server: ModelServer) -> None:
    moment = [0.0]
    budget = Budget(2, clock=lambda: moment[0])
    assert [budget.take(), budget.take(), budget.take()] == [True, True, False]
    moment[0] = 60.0
    assert budget.take()
    model = client(server, requests_per_minute=1)
    answer(server, extraction())
    assert model.extract(POST).ok
    assert model.extract(POST.model_copy(update={"message_id": 2})).reasons == [
        "model budget of 1 requests a minute used up"
    ]


def test_text_sent_is_sanitised_and_cut_to_4000_characters(server: ModelServer) -> None:
    secret = "sk-" + "a" * 40
    text = f"api_key: hunter2hunter2 and {secret} " + "x" * 5000
    cleaned = sanitise(text, Redactor())
    assert "hunter2" not in cleaned and secret not in cleaned and len(cleaned) == 4000
    answer(server, extraction())
    client(server).extract(POST.model_copy(update={"text": f"{POST.text} key={KEY}"}))
    assert KEY not in json.dumps(server.bodies[0]["messages"])


def test_the_key_comes_from_the_named_variable() -> None:
    settings = ModelSettings(model="m", api_key_env="MY_MODEL_KEY")
    with pytest.raises(ConfigError, match="needs MY_MODEL_KEY set"):
        ModelClient(settings, {})


@pytest.mark.parametrize(
    ("text", "photo", "rules_complete", "enabled", "expected"),
    [
        ("看图👇", True, False, (True, False), "vision"),  # a photo with under 20 characters
        ("看图👇", True, False, (False, True), "manual"),  # never a rules or text fallback
        (POST.text, True, True, (True, False), "rules"),  # a photo, but the text is complete
        (POST.text, True, False, (True, False), "vision"),
        ("BTC LONG, stop later", False, False, (True, True), "text"),
        ("BTC LONG, stop later", False, False, (True, False), "rules"),  # text model off
        ("BTC LONG 100 SL 90", False, True, (True, True), "rules"),
    ],
)  # fmt: skip
def test_routing_rules_first_vision_for_image_posts_text_only_when_incomplete(
    text: str, photo: bool, rules_complete: bool, enabled: tuple[bool, bool], expected: str
) -> None:
    from tradekit.telegram.models.routing import route

    record = POST.model_copy(update={"text": text, "image_url": POST.image_url if photo else None})
    vision, text_model = enabled
    got = route(record, rules_complete=rules_complete, vision_enabled=vision,
                text_enabled=text_model)  # fmt: skip
    assert got == expected

"""Redactor unit tests, and an end-to-end check that tk-risk never writes a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import init_home

from tradekit import jsonio
from tradekit.redact import MASK, Redactor, secret_values

TK_RISK = Path(sys.executable).parent / "tk-risk"


# -- Redactor ---------------------------------------------------------------------------


def test_raw_secret_is_masked_in_text_and_bytes() -> None:
    redactor = Redactor(["hunter2-secret"])
    assert redactor
    assert redactor.text("pw=hunter2-secret!") == "pw=[redacted]!"
    assert redactor.bytes(b"a hunter2-secret b hunter2-secret") == b"a [redacted] b [redacted]"
    assert redactor.text("nothing to hide") == "nothing to hide"


def test_empty_redactor_changes_nothing() -> None:
    redactor = Redactor()
    assert not redactor
    assert redactor.text("hunter2") == "hunter2"
    assert redactor.bytes(b"\xff not utf-8") == b"\xff not utf-8"


@pytest.mark.parametrize(
    "secret",
    [
        'quo"te-secret',
        "back\\slash-secret",
        'both\\"-and-more',
        "p\u00e4ssw\u00f6rd-\u00fc-\u5bc6\u7801",
        "emoji-\U0001f511-key",
        "tab\tand\nnewline",
        "ctl\x01char",
    ],
)
def test_json_escaped_forms_are_masked(secret: str) -> None:
    redactor = Redactor([secret])
    value = {"reason": f"x {secret} y"}
    for encoded in (
        jsonio.dumps(value),  # what every writer uses (orjson: UTF-8, minimal escapes)
        json.dumps(value, ensure_ascii=False).encode(),
        json.dumps(value).encode(),  # \uXXXX escapes for non-ASCII
    ):
        masked = redactor.bytes(encoded)
        assert json.loads(masked) == {"reason": "x [redacted] y"}, encoded
    assert redactor.text(f"raw: {secret}") == "raw: [redacted]"


def test_escaped_form_is_really_different_from_raw() -> None:
    # Guard for the test above: the escaped forms are not just the raw secret.
    secret = 'quo"te\\and-\u00e9'
    assert secret.encode() not in jsonio.dumps({"v": secret})
    assert secret.encode() not in json.dumps({"v": secret}).encode()


@pytest.mark.parametrize("order", [1, -1])
def test_longest_secret_is_masked_whole(order: int) -> None:
    secrets = ["abcdefgh", "abcdefgh-ijklmnop", "ijklmnop"][::order]
    redactor = Redactor(secrets)
    assert redactor.text("key=abcdefgh-ijklmnop;") == "key=[redacted];"
    assert redactor.text("abcdefgh and ijklmnop") == "[redacted] and [redacted]"


def test_secret_values_longest_first() -> None:
    env = {
        "BITGET_API_KEY": "abcdef",
        "BITGET_API_SECRET": "abcdefgh",
        "BITGET_API_PASSPHRASE": "abcdefg",
    }
    assert secret_values(env) == ["abcdefgh", "abcdefg", "abcdef"]


def test_from_env_known_vars_from_6_chars_and_guessed_names_from_8() -> None:
    env = {
        "BITGET_API_KEY": "k1-abc",  # known: masked from 6 characters
        "BITGET_API_SECRET": "s9-abc",
        "BITGET_API_PASSPHRASE": "pp3",  # too short to mask without corrupting text
        "FOO_TOKEN": "12345678",  # guessed, 8 chars: a secret
        "BAR_TOKEN": "1234567",  # guessed, 7 chars: too short to be sure
        "MY_PASSWORD": "correct-horse",
        "OPENAI_API_KEY": "sk-abcdefgh",
        "github_token": "ghp_abcdefgh",  # names match case-insensitively
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/home/somebody",
        "KEYBOARD": "us-international",
        "MONKEY": "not-a-secret-value",
        "TOKEN_COUNT": "1234567890",
        "EMPTY_SECRET": "",
    }
    assert set(secret_values(env)) == {
        "k1-abc",
        "s9-abc",
        "12345678",
        "correct-horse",
        "sk-abcdefgh",
        "ghp_abcdefgh",
    }
    redactor = Redactor.from_env(env)
    assert redactor.text("k1-abc / s9-abc / pp3") == "[redacted] / [redacted] / pp3"
    assert redactor.text("t=12345678") == "t=[redacted]"
    assert redactor.text("b=1234567") == "b=1234567"
    assert redactor.text("/usr/local/bin:/usr/bin:/bin") == "/usr/local/bin:/usr/bin:/bin"
    assert redactor.text("us-international") == "us-international"


def test_from_env_without_secrets_is_empty() -> None:
    env = {"PATH": "/usr/bin", "LANG": "C.UTF-8", "BITGET_API_KEY": "", "SHORT_TOKEN": "abc"}
    assert secret_values(env) == []
    assert not Redactor.from_env(env)


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITGET_API_PASSPHRASE", "zz-from-os-environ-zz")
    assert Redactor.from_env().text("p=zz-from-os-environ-zz") == "p=[redacted]"


# -- end to end: tk-risk ----------------------------------------------------------------

API_KEY = "AKtest-9f3c1e7b2d"
API_SECRET = "SKtest-4a8e0c6f91b"
PASSPHRASE = "PPtest-Zebra-7731"
SECRETS = (API_KEY, API_SECRET, PASSPHRASE)


def _env(home: Path, **secrets: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BITGET_", "TK_")) and name not in ("COLUMNS",)
    }
    env.update(TK_HOME=str(home), TK_NOW="2026-11-20T10:00:00Z", TZ="UTC", **secrets)
    return env


def _plan_line(reason: str, extra: str) -> str:
    return json.dumps(
        {
            "tradePlanVersion": 1,
            "cycleId": "v5:BTCUSDT:1h:2026-11-20T10:00:00Z",
            "plan": {"symbol": "BTCUSDT", "side": "long", "level": "strong", "reason": reason},
            "myNote": extra,
        },
        ensure_ascii=False,
    )


def _run_risk(home: Path, stdin: str, secrets: dict[str, str]) -> subprocess.CompletedProcess:
    init_home(home)  # kept as it is when it was made already
    return subprocess.run(
        [str(TK_RISK), "--on-error", "emit"],
        input=stdin.encode("utf-8"),
        capture_output=True,
        env=_env(home, **secrets),
        timeout=120,
        check=False,
    )


def _written_files(home: Path) -> dict[str, bytes]:
    files = {str(path): path.read_bytes() for path in sorted((home / "logs").glob("*"))}
    for name in ("tradekit.db", "tradekit.db-wal"):
        if (home / name).exists():
            files[name] = (home / name).read_bytes()
    return files


def test_tk_risk_writes_no_secret_anywhere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = _plan_line(
        reason=f"key {API_KEY} secret {API_SECRET} pass {PASSPHRASE}",
        extra=f"leaked {API_SECRET} and {PASSPHRASE}",
    )
    bad = json.dumps({"tradePlanVersion": 2, "cycleId": "x", "oops": PASSPHRASE})
    result = _run_risk(
        home,
        good + "\n" + bad + "\n",
        {
            "BITGET_API_KEY": API_KEY,
            "BITGET_API_SECRET": API_SECRET,
            "BITGET_API_PASSPHRASE": PASSPHRASE,
        },
    )
    assert result.returncode == 65, result.stderr.decode()

    out_lines = result.stdout.decode("utf-8").splitlines()
    assert len(out_lines) == 2
    plan, error = (json.loads(line) for line in out_lines)
    assert plan["plan"]["reason"] == "key [redacted] secret [redacted] pass [redacted]"
    assert plan["myNote"] == "leaked [redacted] and [redacted]"
    assert error["record"] == "error"
    assert error["line"] == 2
    assert MASK in error["input"]
    assert MASK.encode() in result.stdout
    assert b"<stdin>:2" in result.stderr

    files = _written_files(home)
    assert str(home / "logs" / "decisions.jsonl") in files
    assert str(home / "logs" / "errors.jsonl") in files
    assert "tradekit.db" in files
    # The secrets really reached the logs (masked), so the check below means something.
    assert MASK.encode() in files[str(home / "logs" / "decisions.jsonl")]
    assert MASK.encode() in files[str(home / "logs" / "errors.jsonl")]

    outputs = {"stdout": result.stdout, "stderr": result.stderr, **files}
    for secret in SECRETS:
        for where, data in outputs.items():
            assert secret.encode() not in data, f"{secret!r} found in {where}"


def test_tk_risk_masks_a_secret_with_json_special_characters(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = 'PP"quo\\te-\u00e9t\u00e9-5521'
    result = _run_risk(
        home,
        _plan_line(reason=f"pass {secret}", extra=secret) + "\n",
        {"BITGET_API_PASSPHRASE": secret},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["plan"]["reason"] == "pass [redacted]"
    escaped = json.dumps(secret, ensure_ascii=False)[1:-1].encode()
    outputs = {"stdout": result.stdout, "stderr": result.stderr, **_written_files(home)}
    for where, data in outputs.items():
        assert secret.encode() not in data, where
        assert escaped not in data, where


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # spelled with escapes JSON does not need: the same string, masked
        (rb'{"a":"hunter2-very-s\u0065cret"}', b'{"a":"[redacted]"}'),
        (rb'{"a":"hunter2\/x \u0068unter2-very-secret"}', b'{"a":"hunter2/x [redacted]"}'),
        # an escaped backslash, a quote, a control character, a surrogate pair: left alone
        (rb'{"a":"x\\u0065"}', rb'{"a":"x\\u0065"}'),
        (rb'{"a":"\u0022 \u000a \ud83d\ude00"}', rb'{"a":"\u0022 \u000a \ud83d\ude00"}'),
    ],
)
def test_a_secret_spelled_with_needless_escapes_is_masked(data: bytes, expected: bytes) -> None:
    out = Redactor(["hunter2-very-secret"]).bytes(data)
    assert out == expected
    if MASK.encode() not in out:
        assert json.loads(out) == json.loads(data)  # the same strings, spelled out


def test_without_secrets_escapes_are_left_as_they_are() -> None:
    assert Redactor().bytes(rb'{"a":"\u0065"}') == rb'{"a":"\u0065"}'


def test_tk_risk_masks_a_secret_written_with_escapes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    spelled = "".join(f"\\u{ord(c):04x}" for c in PASSPHRASE)
    line = _plan_line(reason="pass SPELLED", extra="x").replace("SPELLED", spelled)
    result = _run_risk(home, line + "\n", {"BITGET_API_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["plan"]["reason"] == "pass [redacted]"
    [entry] = (home / "logs" / "decisions.jsonl").read_text().splitlines()
    assert json.loads(entry)["record"]["plan"]["reason"] == "pass [redacted]"
    outputs = {"stdout": result.stdout, **_written_files(home)}
    for where, data in outputs.items():
        assert PASSPHRASE.encode() not in data, where
        assert spelled.encode() not in data, where


def test_tk_risk_masks_a_quoted_secret_on_a_bad_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = 'PP"quo\\te-5521'
    bad = json.dumps({"tradePlanVersion": 2, "oops": secret})
    result = _run_risk(home, bad + "\n", {"BITGET_API_PASSPHRASE": secret})
    assert result.returncode == 65
    # Any level of JSON escaping of the secret is still the secret.
    forms = {secret}
    for _ in range(3):
        forms |= {json.dumps(form)[1:-1] for form in forms}
    outputs = {"stdout": result.stdout, "stderr": result.stderr, **_written_files(home)}
    for where, data in outputs.items():
        for form in forms:
            assert form.encode() not in data, f"{form!r} found in {where}"


def test_tk_risk_does_not_leak_part_of_a_secret_cut_by_the_excerpt(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = "PPtest-Zebra-7731-long-passphrase"
    head = '{"pad":"'
    tail = '","p":"'
    # Put the secret so that the 199-character excerpt ends just before its last character.
    pad = "x" * (199 - len(head) - len(tail) - (len(secret) - 1))
    bad = f'{head}{pad}{tail}{secret}"}}'
    assert bad.index(secret) + len(secret) - 1 == 199
    result = _run_risk(home, bad + "\n", {"BITGET_API_PASSPHRASE": secret})
    assert result.returncode == 65
    prefix = secret[:-1].encode()
    outputs = {"stdout": result.stdout, "stderr": result.stderr, **_written_files(home)}
    for where, data in outputs.items():
        assert prefix not in data, f"all but the last character of the secret is in {where}"


def test_short_or_blank_credentials_never_corrupt_records(tmp_path: Path) -> None:
    """A 4-letter passphrase like "long" cannot be masked without mangling every long plan:
    it is not treated as a secret (and live mode refuses it as unusable)."""
    home = tmp_path / "home"
    plan = '{"tradePlanVersion":1,"cycleId":"17636328000","plan":{"side":"long"}}'
    env = {"BITGET_API_PASSPHRASE": "long", "BITGET_API_KEY": "0", "BITGET_API_SECRET": " "}
    result = subprocess.run(
        [str(TK_RISK.parent / "tk-news-gate")],
        input=(plan + "\n").encode(),
        capture_output=True,
        env=_env(home, **env),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == plan.encode() + b"\n"
    assert b"[redacted]" not in result.stderr

"""JSON Schemas generated from the record models (`tk schema`); a test keeps them in sync."""

from __future__ import annotations

from pathlib import Path

from tradekit import jsonio
from tradekit.records import RECORD_KINDS


def schema_for(kind: str) -> dict:
    model = RECORD_KINDS[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://tradekit.invalid/schemas/{kind}.schema.json",
        **schema,
    }


def render(kind: str) -> bytes:
    return jsonio.dumps(schema_for(kind), pretty=True) + b"\n"


def schema_path(directory: Path, kind: str) -> Path:
    return directory / f"{kind}.schema.json"


def drifted(directory: Path) -> list[str]:
    """Kinds whose schema file is missing or differs from what the models generate."""
    stale = []
    for kind in RECORD_KINDS:
        path = schema_path(directory, kind)
        if not path.exists() or path.read_bytes() != render(kind):
            stale.append(kind)
    return stale


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in RECORD_KINDS:
        path = schema_path(directory, kind)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(render(kind))
        tmp.replace(path)
        written.append(path)
    return written

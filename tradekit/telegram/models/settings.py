"""One model's settings (a vision or a text model behind an OpenAI-compatible API)."""

from __future__ import annotations

from pydantic import Field

from tradekit.section import Section


class ModelSettings(Section):
    enabled: bool = False
    #: the API's base URL: NVIDIA NIM, Moonshot/Kimi, DeepSeek, a local Ollama or vLLM
    base_url: str = "https://integrate.api.nvidia.com/v1"
    model: str = ""
    #: the environment variable holding the API key (never the key itself)
    api_key_env: str = "NIM_API_KEY"
    timeout_seconds: float = Field(20.0, gt=0, le=300)
    #: retries of a failed request (the SDK's exponential backoff, Retry-After honoured)
    max_retries: int = Field(2, ge=0, le=10)
    #: at most this many requests a minute; past it a post goes to needs-manual
    requests_per_minute: int = Field(20, ge=1, le=10_000)
    #: an extraction below this confidence goes to needs-manual
    confidence_threshold: float = Field(0.8, ge=0, le=1)

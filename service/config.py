"""Settings from the environment (prefix ``LOSS_SERVICE_``), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; each field is read from ``LOSS_SERVICE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="LOSS_SERVICE_", extra="ignore")

    host: str = Field("127.0.0.1", description="address to bind; 0.0.0.0 in containers")
    port: int = Field(8000, ge=1, le=65535, description="TCP port")
    workers: int = Field(1, ge=1, description="uvicorn worker processes (1 per container; scale by replicas)")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="log level"
    )
    max_body_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="largest request body accepted")
    max_decompressed_bytes: int | None = Field(
        None, ge=1024, description="largest gzip/deflate request body once inflated; unset: max_body_bytes"
    )
    max_elements: int = Field(1 << 24, ge=1, description="largest number of elements in one array")
    max_error_items: int = Field(20, ge=1, le=1000, description="most items listed in a problem's errors")
    # Secret, so that no repr or log of the settings shows the keys.
    api_keys: SecretStr | None = Field(
        None,
        description="comma-separated API keys, or @/path to a file of one key per line; unset or empty: "
        "no key needed",
    )
    drain_seconds: float = Field(
        5.0, ge=0, description="after SIGTERM, seconds /readyz answers 503 before the server stops"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()

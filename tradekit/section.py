"""The base of every config section: unknown keys are errors, values are strict."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    # strict: TOML has real booleans and numbers; "yes", 1 or "true" must not switch live on.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

"""Settings of the command line: the REST API it sends its work to when that API answers, and
the token it sends (so the API, not the command line, decides what the caller may read)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class CommandLineSettings(BaseModel):
    api_url: str = Field(
        "",
        description="the REST API that `docsearch search`, `ask`, `feedback` and `lineage` go "
        "through when it answers (empty: `http://HOST:API_PORT`, the one `make run` starts)",
    )
    api_token: str = Field(
        "",
        description="the command line's API token: those commands act as its user, through "
        "the API only (empty: as the operator, here, or `--as-user NAME` with the token "
        "`docsearch users add`/`tokens issue` saved under `$DOCSEARCH_HOME/tokens`)",
    )

    @field_validator("api_url", mode="after")
    @classmethod
    def _http_api_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// address")
        return value.rstrip("/")

"""Settings of who may see what: the access policy, sign-in, the REST API."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from search.settings.base import absolute


class AccessSettings(BaseModel):
    access: Path | None = Field(
        None,
        description="the access policy of a documents folder without one of its own (YAML; unset: `access.yaml` at the root of the folder being indexed, never indexed; a folder with its own and this naming another is refused)",
    )
    api_port: int = Field(8000, description="port of the REST API (`make run`, `docsearch api`)")
    auth_secrets: Path = Field(
        Path(".streamlit/secrets.toml"),
        description="Streamlit secrets file whose `[auth]` section configures OpenID Connect sign-in (the API accepts the same provider's access tokens)",
    )
    groups_claim: str = Field(
        "groups", description="OIDC claim that lists a signed-in person's groups"
    )
    name_claim: str = Field(
        "email", description="OIDC claim that names a signed-in person (`sub` when absent)"
    )
    admin_group: str = Field(
        "docsearch-admins",
        description="members of this group (from the claim or `docsearch users add --groups`) are admins",
    )
    api_rate_limit: int = Field(
        120, description="API requests per minute per token (then 429 with Retry-After)", ge=1
    )
    api_auth_failures: int = Field(
        20,
        description="failed API sign-ins (no token, a bad one) per minute per client address; then 429 with Retry-After for every request from it, before any token is looked up",
        ge=1,
    )

    @field_validator("access", "auth_secrets", mode="after")
    @classmethod
    def _absolute_access_paths(cls, path: Path | None) -> Path | None:
        return absolute(path)

    @field_validator("access", mode="before")
    @classmethod
    def _access_empty_is_none(cls, value):
        return value or None

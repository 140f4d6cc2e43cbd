"""OIDC access tokens for the API, from the provider the app signs people in with.

The provider is the one in the Streamlit secrets file's ``[auth]`` section (``Settings.
auth_secrets``: ``server_metadata_url`` and ``client_id``, at the top of ``[auth]`` or in its one
provider sub-section). A token that is a JWT is verified against the provider's JWKS (signature,
issuer, expiry); any other token is sent to the provider's userinfo endpoint, which answers
only for a live token, so a token the provider revoked stops working at once.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from pathlib import Path

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

logger = logging.getLogger(__name__)
METADATA_TTL_S = 3600


def provider_settings(secrets: Path) -> dict | None:
    """``{server_metadata_url, client_id}`` from the secrets file, None when none is set."""
    try:
        auth = tomllib.loads(secrets.read_text()).get("auth", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    candidates = [auth, *(v for v in auth.values() if isinstance(v, dict))]
    for section in candidates:
        if section.get("server_metadata_url") and section.get("client_id"):
            return {k: section[k] for k in ("server_metadata_url", "client_id")}
    return None


class OidcVerifier:
    """Claims of a provider's access token, or None when the provider does not vouch for it."""

    def __init__(self, metadata_url: str, client_id: str, timeout: float = 10.0) -> None:
        self.metadata_url, self.client_id, self.timeout = metadata_url, client_id, timeout
        self._metadata: dict | None = None
        self._keys: KeySet | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_secrets(cls, secrets: Path) -> OidcVerifier | None:
        found = provider_settings(secrets)
        return cls(found["server_metadata_url"], found["client_id"]) if found else None

    def metadata(self) -> dict:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched > METADATA_TTL_S:
                self._metadata = self._get(self.metadata_url)
                self._keys = KeySet.import_key_set(self._get(self._metadata["jwks_uri"]))
                self._fetched = time.monotonic()
            return self._metadata

    def _get(self, url: str) -> dict:
        response = requests.get(url, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def claims(self, token: str) -> dict | None:
        try:
            metadata = self.metadata()
            if token.count(".") == 2:
                return self._jwt_claims(token, metadata)
            response = requests.get(
                metadata["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            )
        except (requests.RequestException, KeyError, ValueError) as exc:
            logger.warning("OIDC provider %s could not be asked: %s", self.metadata_url, exc)
            return None
        if response.status_code != 200:
            return None
        return response.json()

    def _jwt_claims(self, token: str, metadata: dict) -> dict | None:
        try:
            decoded = jwt.decode(token, self._keys)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": metadata["issuer"]},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            logger.info("an OIDC token was refused: %s", exc)
            return None
        return decoded.claims

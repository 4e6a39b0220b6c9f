"""Public keys from a JWKS URL (Better Auth serves one at /api/auth/jwks), cached and refetched with care.

- Fetched at start-up, again when the cache is older than its TTL, and when a token names an unknown
  `kid` - but at most once per `min_refetch` seconds, so a burst of forged kids cannot hammer the issuer.
- Cached keys keep working while the endpoint is down; an unknown kid while it is down is 503 (we cannot
  tell a new key from a forged one), never 401 and never a hang (every fetch has a timeout).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

from service.errors import Unauthorized, Unavailable
from service.metrics import JWKS_FETCHES

log = logging.getLogger("service.jwks")

# Each algorithm accepted from a JWKS, with the key type (and curve) that may verify it.
_KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "EdDSA": ("OKP", "Ed25519"),
    "ES256": ("EC", "P-256"),
    "RS256": ("RSA", None),
}
MAX_JWKS_BYTES = 256 * 1024


class JwksKeys:
    algorithms = frozenset(_KEY_TYPES)

    def __init__(self, url: str, *, ttl: float, min_refetch: float, timeout: float) -> None:
        self._url = url
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._timeout = timeout
        self._keys: dict[str, tuple[jwt.PyJWK, dict[str, Any]]] = {}
        self._fetched_at = float("-inf")  # last successful fetch
        self._attempted_at = float("-inf")  # last attempt, successful or not
        self._last_ok = False
        self._lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        await self._refresh(force=True)
        if not self._last_ok:
            log.warning("JWKS not reachable at start-up; tokens needing it get 503 until it is")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def resolve(self, header: dict[str, Any]) -> tuple[Any, list[str]]:
        alg = header["alg"]
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("The token has no key id (kid); the JWKS needs one to pick the key.")
        if time.monotonic() - self._fetched_at > self._ttl:
            await self._refresh(force=False)
        found = self._keys.get(kid)
        if found is None:
            await self._refresh(force=False)
            found = self._keys.get(kid)
        if found is None:
            if not self._last_ok:
                raise Unavailable("The key set (JWKS) of the token's issuer is unreachable; retry shortly.")
            raise Unauthorized("The token's key id (kid) is not in the issuer's key set.")
        key, jwk = found
        _check_key_fits(jwk, alg)
        return key.key, [alg]

    async def _refresh(self, *, force: bool) -> None:
        """Fetch the key set unless another fetch happened within `min_refetch` seconds."""
        async with self._lock:
            if not force and time.monotonic() - self._attempted_at < self._min_refetch:
                return
            self._attempted_at = time.monotonic()
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as error:
                self._last_ok = False
                JWKS_FETCHES.labels("failed").inc()
                log.warning("JWKS fetch failed: %s", type(error).__name__)
                return
            JWKS_FETCHES.labels("ok").inc()
            self._keys = keys
            self._fetched_at = time.monotonic()
            self._last_ok = True

    async def _fetch(self) -> dict[str, tuple[jwt.PyJWK, dict[str, Any]]]:
        assert self._client is not None, "start() opens the HTTP client"
        response = await self._client.get(self._url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("JWKS document too large")
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWKS document")
        keys: dict[str, tuple[jwt.PyJWK, dict[str, Any]]] = {}
        for entry in document["keys"]:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
                continue
            try:
                keys[entry["kid"]] = (jwt.PyJWK(entry), entry)
            except jwt.PyJWTError:
                continue  # a key type we do not verify with; the others still count
        return keys


def _check_key_fits(data: dict[str, Any], alg: str) -> None:
    """The token's alg must be one this key can verify: the key decides, never the header alone."""
    kty, crv = _KEY_TYPES[alg]
    declared = data.get("alg")
    if data.get("kty") != kty or (crv is not None and data.get("crv") != crv) or (declared not in (None, alg)):
        raise Unauthorized("The token's algorithm does not match its key.")

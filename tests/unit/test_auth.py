"""Token verification with real keys and a real JWKS endpoint on 127.0.0.1: what is accepted, refused, and why."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from service.auth import TokenVerifier, bearer_token, build_verifier
from service.errors import Unauthorized, Unavailable
from service.jwks import JwksKeys
from tests.helpers import SECRET, make_settings
from tests.jwks_server import JwksServer, SigningKey, new_key, serve_jwks

ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {alg: new_key(alg, f"kid-{alg}") for alg in ("EdDSA", "ES256", "RS256")}


@pytest.fixture
def jwks(keys: dict[str, SigningKey]) -> Iterator[JwksServer]:
    with serve_jwks(list(keys.values())) as server:
        yield server


async def make_verifier(
    jwks_url: str | None, *, secret: str | None = SECRET, **overrides: Any
) -> tuple[TokenVerifier, JwksKeys | None]:
    settings = make_settings("postgresql://unused/db", jwt_secret=secret, jwt_jwks_url=jwks_url, **overrides)
    verifier, source = build_verifier(settings)
    if source is not None:
        await source.start()
    return verifier, source


@pytest.fixture
async def verifier(jwks: JwksServer) -> AsyncIterator[TokenVerifier]:
    verifier, source = await make_verifier(jwks.url, jwks_min_refetch_seconds=0.2)
    yield verifier
    assert source is not None
    await source.close()


def better_auth_claims(user_id: str, **extra: Any) -> dict[str, Any]:
    """What Better Auth's jwt plugin puts in a token (library defaults)."""
    now = int(time.time())
    claims = {
        "iat": now,
        "name": "Alice",
        "email": "alice@example.com",
        "emailVerified": True,
        "id": user_id,
        "sub": user_id,
        "exp": now + 900,
        "iss": ORIGIN,
        "aud": ORIGIN,
    }
    claims.update(extra)
    return claims


def forge_hs256(claims: dict[str, Any], secret: bytes, **header: Any) -> str:
    """HS256 by hand: PyJWT itself refuses to use a public key as an HMAC secret, attackers do not."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps({"alg": "HS256", **header}).encode()) + b"." + b64(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


async def reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    return caught.value.message


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
async def test_each_jwks_algorithm_is_accepted(verifier: TokenVerifier, keys: dict[str, SigningKey], alg: str) -> None:
    token = keys[alg].sign(better_auth_claims("user_1"))
    assert await verifier.verify(token) == "user_1"


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_each_hmac_algorithm_is_accepted(verifier: TokenVerifier, alg: str) -> None:
    token = jwt.encode({"sub": "user_2", "exp": int(time.time()) + 60}, SECRET, algorithm=alg)
    assert await verifier.verify(token) == "user_2"


async def test_better_auth_token_with_issuer_and_audience(jwks: JwksServer, keys: dict[str, SigningKey]) -> None:
    verifier, source = await make_verifier(jwks.url, secret=None, jwt_issuer=ORIGIN, jwt_audience=ORIGIN)
    try:
        header_less_typ = keys["EdDSA"].sign(better_auth_claims("u"), typ=None)
        assert "typ" not in jwt.get_unverified_header(header_less_typ)  # as Better Auth sends it
        assert await verifier.verify(header_less_typ) == "u"
        as_list = keys["EdDSA"].sign(better_auth_claims("u", aud=["other", ORIGIN]))
        assert await verifier.verify(as_list) == "u"
        assert "issuer" in await reason(verifier, keys["EdDSA"].sign(better_auth_claims("u", iss="https://evil.test")))
        assert "audience" in await reason(
            verifier, keys["EdDSA"].sign(better_auth_claims("u", aud="https://other.test"))
        )
        assert "audience" in await reason(verifier, keys["EdDSA"].sign(better_auth_claims("u", aud=["a", "b"])))
    finally:
        assert source is not None
        await source.close()


async def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    unsigned = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, key=None, algorithm="none")  # type: ignore[arg-type]
    assert "algorithm" in await reason(verifier, unsigned)


async def test_hmac_token_is_refused_where_only_jwks_is_configured(jwks: JwksServer) -> None:
    verifier, source = await make_verifier(jwks.url, secret=None)
    try:
        token = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
        assert "algorithm" in await reason(verifier, token)
    finally:
        assert source is not None
        await source.close()


@pytest.mark.parametrize("secret", [SECRET, None])
async def test_algorithm_confusion_with_the_public_key_as_hmac_secret(
    jwks: JwksServer, keys: dict[str, SigningKey], secret: str | None
) -> None:
    """An attacker signs HS256 with a published public key; it must never verify."""
    verifier, source = await make_verifier(jwks.url, secret=secret)
    public = keys["RS256"].private.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"sub": "u", "exp": int(time.time()) + 60}
    forged = [
        forge_hs256(claims, pem, kid="kid-RS256"),
        forge_hs256(claims, json.dumps(keys["EdDSA"].jwk).encode(), kid="kid-EdDSA"),
    ]
    try:
        for token in forged:
            with pytest.raises(Unauthorized):
                await verifier.verify(token)
    finally:
        assert source is not None
        await source.close()


async def test_alg_that_does_not_fit_the_key_is_refused(verifier: TokenVerifier, keys: dict[str, SigningKey]) -> None:
    """An ES256 token that names the RSA key's kid: the key decides which algorithm may verify."""
    token = jwt.encode(
        {"sub": "u", "exp": int(time.time()) + 60},
        keys["ES256"].private,
        algorithm="ES256",
        headers={"kid": "kid-RS256"},
    )
    assert "does not match its key" in await reason(verifier, token)


async def test_bad_signature(verifier: TokenVerifier, keys: dict[str, SigningKey]) -> None:
    other = new_key("EdDSA", "kid-EdDSA")
    assert "signature" in await reason(verifier, other.sign(better_auth_claims("u")))


async def test_time_claims(verifier: TokenVerifier, keys: dict[str, SigningKey]) -> None:
    key = keys["EdDSA"]
    now = int(time.time())
    assert "expired" in await reason(verifier, key.sign(better_auth_claims("u", exp=now - 31)))
    assert await verifier.verify(key.sign(better_auth_claims("u", exp=now - 5))) == "u"  # within the 30 s leeway
    assert "not yet valid" in await reason(verifier, key.sign(better_auth_claims("u", nbf=now + 120)))
    assert "not yet valid" in await reason(verifier, key.sign(better_auth_claims("u", iat=now + 120)))
    assert await verifier.verify(key.sign(better_auth_claims("u", nbf=now + 10, iat=now + 10))) == "u"
    no_exp = better_auth_claims("u")
    del no_exp["exp"]
    assert "'exp'" in await reason(verifier, key.sign(no_exp))


@pytest.mark.parametrize("sub", [None, "", 42, ["u"]])
async def test_user_claim_must_be_a_non_empty_string(
    verifier: TokenVerifier, keys: dict[str, SigningKey], sub: object
) -> None:
    claims = better_auth_claims("u", sub=sub)
    if sub is None:
        del claims["sub"]
    assert "'sub'" in await reason(verifier, keys["EdDSA"].sign(claims))


async def test_user_claim_is_configurable(jwks: JwksServer, keys: dict[str, SigningKey]) -> None:
    verifier, source = await make_verifier(jwks.url, jwt_user_claim="id")
    try:
        assert await verifier.verify(keys["EdDSA"].sign(better_auth_claims("from-id", sub="from-sub"))) == "from-id"
    finally:
        assert source is not None
        await source.close()


async def test_malformed_and_oversized_tokens(verifier: TokenVerifier) -> None:
    for token in ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.%%%.xyz", "x" * 9000]:
        with pytest.raises(Unauthorized):
            await verifier.verify(token)


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    for header in [None, "", "Bearer", "Bearer ", "Basic abc", "Token abc"]:
        with pytest.raises(Unauthorized) as caught:
            bearer_token(header)
        assert caught.value.token_given is False
        assert caught.value.headers() == {"WWW-Authenticate": "Bearer"}


async def test_key_rotation_is_picked_up_without_restart(verifier: TokenVerifier, jwks: JwksServer) -> None:
    rotated = new_key("EdDSA", "kid-rotated")
    token = rotated.sign(better_auth_claims("u"))
    await asyncio.sleep(0.25)  # past the refetch interval
    assert "not in the issuer's key set" in await reason(verifier, token)
    jwks.keys.append(rotated)
    await asyncio.sleep(0.25)
    assert await verifier.verify(token) == "u"


async def test_cached_keys_work_while_jwks_is_down(jwks: JwksServer, keys: dict[str, SigningKey]) -> None:
    verifier, source = await make_verifier(jwks.url, jwks_cache_seconds=1, jwks_min_refetch_seconds=0)
    try:
        jwks.down = True
        await asyncio.sleep(1.1)  # the cache is stale: a refresh is tried, fails, and the old keys stay
        hits = jwks.hits
        assert await verifier.verify(keys["ES256"].sign(better_auth_claims("u"))) == "u"
        assert jwks.hits == hits + 1
        with pytest.raises(Unavailable):
            await verifier.verify(new_key("EdDSA", "kid-unknown").sign(better_auth_claims("u")))
    finally:
        assert source is not None
        await source.close()


async def test_unknown_kid_when_jwks_was_never_reachable_is_503(keys: dict[str, SigningKey]) -> None:
    verifier, source = await make_verifier("http://127.0.0.1:9/jwks", jwks_timeout_seconds=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await verifier.verify(keys["EdDSA"].sign(better_auth_claims("u")))
        assert time.monotonic() - started < 3
    finally:
        assert source is not None
        await source.close()


async def test_refetch_rate_limit_holds_under_a_burst(jwks: JwksServer) -> None:
    verifier, source = await make_verifier(jwks.url, jwks_min_refetch_seconds=0.5)
    try:
        await asyncio.sleep(0.6)  # one refetch is allowed now, and only one
        hits = jwks.hits
        forged = [new_key("EdDSA", f"forged-{i}").sign(better_auth_claims("u")) for i in range(50)]
        results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
        assert all(isinstance(r, Unauthorized) for r in results)
        assert jwks.hits - hits == 1
    finally:
        assert source is not None
        await source.close()

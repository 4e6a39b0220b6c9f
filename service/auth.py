"""Who is calling: Bearer JWT verification, the auth middleware and the path-owner guard.

A token's key is chosen by the key sources the service trusts, never by the token's header: the
header only says which source to ask (HMAC or JWKS) and which key id, and each source carries its own
allow-list of algorithms.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import jwt
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Receive, Scope, Send

from service.config import Settings
from service.errors import Forbidden, Unauthorized
from service.jwks import JwksKeys

MAX_TOKEN_BYTES = 8192
VERIFIED_CACHE_SIZE = 10_000
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})


class KeySource(Protocol):
    """Where verification keys come from; `resolve` answers the key and the algorithms it may verify."""

    algorithms: frozenset[str]

    async def resolve(self, header: dict[str, Any]) -> tuple[Any, list[str]]: ...


class SharedSecret:
    """HS256/384/512 with one shared secret, as front ends that sign with BETTER_AUTH_SECRET do."""

    algorithms = HMAC_ALGORITHMS

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    async def resolve(self, header: dict[str, Any]) -> tuple[Any, list[str]]:
        return self._secret, [header["alg"]]


class TokenVerifier:
    def __init__(self, settings: Settings, sources: list[KeySource]) -> None:
        self._sources = sources
        self._claim = settings.jwt_user_claim
        self._leeway = settings.jwt_leeway_seconds
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._options = {"require": ["exp"], "verify_aud": settings.jwt_audience is not None}
        self._verified: dict[str, tuple[str, float]] = {}
        self._bad_user = (
            f"The token's '{self._claim}' claim must be a non-empty string of at most 255 characters, without NUL."
        )

    async def verify(self, token: str) -> str:
        """The user id of a valid token; Unauthorized with a reason a developer can act on otherwise.

        A token that verified once is remembered, keyed by the whole token, until its `exp`: the same
        bytes under the same keys give the same answer, and front ends send one token many times.
        """
        cached = self._verified.get(token)
        if cached is not None:
            user, expires = cached
            if time.time() < expires:
                return user
            del self._verified[token]
        user, expires = await self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (user, expires)
        return user

    async def _verify(self, token: str) -> tuple[str, float]:
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized("The token is too large.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise Unauthorized("The token is malformed.") from None
        source = self._source_for(header.get("alg"))
        key, algorithms = await source.resolve(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                leeway=self._leeway,
                issuer=self._issuer,
                audience=self._audience,
                options=self._options,  # type: ignore[arg-type]
            )
        except jwt.exceptions.InvalidSubjectError:
            raise Unauthorized(self._bad_user) from None
        except jwt.PyJWTError as error:
            raise Unauthorized(_reason(error)) from None
        user = claims.get(self._claim)
        if not isinstance(user, str) or not user or len(user) > 255 or "\x00" in user:
            raise Unauthorized(self._bad_user)
        return user, float(claims["exp"])

    def _source_for(self, alg: object) -> KeySource:
        for source in self._sources:
            if alg in source.algorithms:
                return source
        raise Unauthorized("The token's algorithm is not accepted here.")


def _reason(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.ExpiredSignatureError):
        return "The token has expired."
    if isinstance(error, jwt.ImmatureSignatureError):
        return "The token is not yet valid (nbf or iat is in the future)."
    if isinstance(error, jwt.InvalidSignatureError):
        return "The token's signature does not verify."
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"The token has no '{error.claim}' claim."
    if isinstance(error, jwt.InvalidIssuerError):
        return "The token's issuer (iss) is not the expected one."
    if isinstance(error, jwt.InvalidAudienceError):
        return "The token's audience (aud) is not the expected one."
    if isinstance(error, jwt.InvalidAlgorithmError):
        return "The token's algorithm is not accepted for its key."
    return "The token is malformed."


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer` header; a missing header, other scheme or empty token is missing."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send a token as 'Authorization: Bearer <JWT>'.", token_given=False)
    return token


class JWTAuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets `request.user` to the token's user id for every /api route, and checks the path's owner."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The base class's call without its per-request objects (a connection, a result): everything needed
        is in the scope. The same rules: HTTP and WebSocket scopes, OPTIONS (a CORS preflight carries no
        token) let through; no route or path opts out here, so there is nothing else to check."""
        if scope["type"] in self.scopes and scope.get("method") not in self.exclude_http_methods:
            verifier: TokenVerifier = scope["litestar_app"].state.verifier
            user = await verifier.verify(bearer_token(_authorization(scope)))
            requires_path_owner(scope["path_params"], user)
            scope["user"] = user
            scope["auth"] = None
        await self.app(scope, receive, send)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        """What __call__ does, for whoever calls the base class's hook directly."""
        verifier: TokenVerifier = connection.app.state.verifier
        user = await verifier.verify(bearer_token(_authorization(connection.scope)))
        requires_path_owner(connection.path_params, user)
        return AuthenticationResult(user=user, auth=None)


def _authorization(scope: Scope) -> str | None:
    """The Authorization header, read straight off the ASGI scope: `connection.headers` would first
    parse every header of the request into a multidict, on every request."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value).decode("latin-1")
    return None


def requires_path_owner(path_params: dict[str, Any], user: str) -> None:
    """The path's {user_id} must be the token's user: 403, before anything else about the request.

    Checked here rather than in a Litestar guard, which would copy the route handler (some 60
    attributes) on every request only to compare two strings.
    """
    if path_params.get("user_id") != user:
        raise Forbidden()


def build_verifier(settings: Settings) -> tuple[TokenVerifier, JwksKeys | None]:
    """The verifier, and the JWKS source whose fetching the app's lifespan starts and stops."""
    sources: list[KeySource] = []
    if settings.jwt_secret is not None:
        sources.append(SharedSecret(settings.jwt_secret))
    jwks = None
    if settings.jwt_jwks_url is not None:
        jwks = JwksKeys(
            settings.jwt_jwks_url,
            ttl=settings.jwks_cache_seconds,
            min_refetch=settings.jwks_min_refetch_seconds,
            timeout=settings.jwks_timeout_seconds,
        )
        sources.append(jwks)
    return TokenVerifier(settings, sources), jwks


def issue_token(settings: Settings, user_id: str, ttl_seconds: int) -> str:
    """An HS256 token for local use (`python -m service token`), signed with the configured secret."""
    if settings.jwt_secret is None:
        raise ValueError("JWT_SECRET (or BETTER_AUTH_SECRET) must be set to issue tokens")
    now = int(time.time())
    claims: dict[str, Any] = {settings.jwt_user_claim: user_id, "iat": now, "exp": now + ttl_seconds}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")

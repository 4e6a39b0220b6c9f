"""Domain errors, named after their contract codes, and the one place that renders the error envelope."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException

log = logging.getLogger("service.errors")


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class ServiceError(Exception):
    """Base of every error the contract names: an HTTP status, a code and a message for a person."""

    status_code = 500
    code = "INTERNAL_ERROR"
    message = "The server failed to handle this request; it has been logged."

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details

    def headers(self) -> dict[str, str]:
        return {}


class Unauthorized(ServiceError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Send a valid token as 'Authorization: Bearer <JWT>'."

    def __init__(self, message: str | None = None, *, token_given: bool = True) -> None:
        super().__init__(message)
        self.token_given = token_given

    def headers(self) -> dict[str, str]:
        if not self.token_given:
            return {"WWW-Authenticate": "Bearer"}
        description = self.message.replace('"', "'")
        return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'}


class Forbidden(ServiceError):
    status_code = 403
    code = "FORBIDDEN"
    message = "The user in the path is not the user of the token."


class TaskNotFound(ServiceError):
    status_code = 404
    code = "TASK_NOT_FOUND"
    message = "No such task for this user."


class NotFound(ServiceError):
    status_code = 404
    code = "NOT_FOUND"
    message = "No such route; see /schema for the API."


class MethodNotAllowed(ServiceError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    message = "This method is not allowed on this route."

    def __init__(self, allow: str) -> None:
        super().__init__(f"This method is not allowed on this route; it allows {allow}.")
        self.allow = allow

    def headers(self) -> dict[str, str]:
        return {"Allow": self.allow}  # RFC 9110: a 405 names the methods the route does allow


class IdempotencyKeyReused(ServiceError):
    status_code = 409
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was already used with a different body; use a new key."


class TaskExists(ServiceError):
    status_code = 409
    code = "TASK_EXISTS"
    message = "This user already has a task with this id (perhaps deleted); choose another id."


class BatchAborted(ServiceError):
    status_code = 409
    code = "BATCH_ABORTED"
    message = "An operation of the atomic batch failed, so none was applied; see details."

    def __init__(self, index: int, failed: ServiceError) -> None:
        error = {"code": failed.code, "message": failed.message, "details": failed.details}
        super().__init__(details={"index": index, "status": failed.status_code, "error": error})


class PreconditionFailed(ServiceError):
    status_code = 412
    code = "PRECONDITION_FAILED"
    message = "The task has changed since that ETag; fetch it again and retry."

    def __init__(self, version: int) -> None:
        super().__init__()
        self.version = version

    def headers(self) -> dict[str, str]:
        return {"ETag": f'"{self.version}"'}  # the task's current ETag, so a client can retry without a GET


class SyncCursorExpired(ServiceError):
    status_code = 410
    code = "SYNC_CURSOR_EXPIRED"
    message = "This sync cursor is older than the kept history; drop the local copy and sync again without a cursor."


class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The request body is too large."


class UnsupportedMediaType(ServiceError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "Send the body as JSON with 'Content-Type: application/json'."


class ValidationFailed(ServiceError):
    status_code = 422
    code = "VALIDATION_ERROR"
    message = "The request is not valid; see details.errors."

    @classmethod
    def of(cls, errors: list[FieldError]) -> ValidationFailed:
        """Every bad field, one entry each; a single entry also names its field in the message."""
        message = f"{errors[0].field}: {errors[0].message}" if len(errors) == 1 else None
        return cls(message, {"errors": [msgspec.structs.asdict(e) for e in errors]})


class RateLimited(ServiceError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests; retry after the number of seconds in Retry-After."

    def __init__(self, retry_after: int, limits: dict[str, str] | None = None) -> None:
        super().__init__()
        self.retry_after = retry_after
        self.limits = limits or {}

    def headers(self) -> dict[str, str]:
        return {**self.limits, "Retry-After": str(self.retry_after)}


class TooManyStreams(ServiceError):
    status_code = 429
    code = "TOO_MANY_STREAMS"
    message = "Too many open event streams for this user; close one, or retry after Retry-After seconds."
    retry_after = 10  # a slot frees when any stream of the user ends: a closed tab, or SSE_MAX_SECONDS

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(ServiceError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "The service is temporarily unavailable; retry shortly."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class ErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str
    details: dict[str, Any] | None
    status: str = "error"


_encoder = msgspec.json.Encoder()

# Framework errors by status, so Litestar's own 404/405/413/415 speak the contract too.
_BY_STATUS: dict[int, type[ServiceError]] = {
    404: NotFound,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    503: Unavailable,
}


def error_response(error: ServiceError) -> Response[bytes]:
    body = ErrorBody(code=error.code, message=error.message, details=error.details)
    return Response(
        _encoder.encode(body),
        status_code=error.status_code,
        media_type=MediaType.JSON,
        headers=error.headers(),
    )


def handle_service_error(_: Request[Any, Any, Any], exc: ServiceError) -> Response[bytes]:
    return error_response(exc)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Litestar's own exceptions (routing, body limits, parameter parsing) in the contract's envelope."""
    if exc.status_code == 405:
        return error_response(MethodNotAllowed(_allowed(exc)))
    if (kind := _BY_STATUS.get(exc.status_code)) is not None:
        return error_response(kind())
    if exc.status_code < 500:
        return error_response(ValidationFailed("The request is not valid: " + _first_line(exc.detail)))
    return handle_internal_error(request, exc)


def handle_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Anything unexpected: logged with the request id, answered without a trace."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ServiceError())


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(exc: HTTPException) -> str:
    """Litestar's router puts the route's methods in the exception (in no fixed order); static files serve GET, HEAD."""
    listed = {k.lower(): str(v) for k, v in (exc.headers or {}).items()}.get("allow", "GET, HEAD")
    return allow_header(m.strip() for m in listed.split(",") if m.strip())


def allow_header(methods: Iterable[str]) -> str:
    """An Allow value in one fixed order, the same for 405 and OPTIONS answers."""
    named = {m.upper() for m in methods}
    return ", ".join([m for m in _METHOD_ORDER if m in named] + sorted(named.difference(_METHOD_ORDER)))


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else "malformed request"


EXCEPTION_HANDLERS = {
    ServiceError: handle_service_error,
    HTTPException: handle_http_exception,
    Exception: handle_internal_error,
}

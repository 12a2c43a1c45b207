"""HTTP status by error type: the ONE table (no message matching anywhere).

``status_for(exc)`` walks the exception's MRO and answers the first type listed; an exception that
is not a ``SceneImportError`` is a server bug: 500 (the caller logs its traceback). On the
dropdown Script's API path :func:`for_api` turns a ``SceneImportError`` into a
``fastapi.HTTPException`` subclass carrying that status, so A1111's API middleware answers 4xx
without a traceback (shared/host-contracts.md, "Errors raised inside a Script").
"""

from __future__ import annotations

from lib_scene.errors import (
    HostError,
    InputError,
    NotFoundError,
    PathNotAllowed,
    SceneImportError,
    UploadError,
    UploadTooLarge,
)


class RequestError(SceneImportError):
    """A malformed HTTP request (not JSON, not an object)."""


class RequestTooLarge(UploadTooLarge):
    """A request body over the upload cap."""


#: Error type -> HTTP status. Subclasses inherit their nearest listed base's status.
STATUS: dict[type[BaseException], int] = {
    RequestError: 400,
    UploadTooLarge: 413,
    UploadError: 400,
    PathNotAllowed: 403,
    NotFoundError: 404,
    HostError: 409,
    InputError: 422,
    SceneImportError: 422,
}


def status_for(exc: BaseException) -> int:
    """The HTTP status for ``exc`` (500 for anything that is not a SceneImportError)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def for_api(exc: SceneImportError) -> Exception:
    """``exc`` as a ``fastapi.HTTPException`` subclass with its status (``exc`` itself without fastapi)."""
    try:
        from fastapi import HTTPException
    except ImportError:
        return exc

    class SceneImportHTTPError(HTTPException):
        """A Scene Import refusal on the API path: 4xx with the message, no traceback."""

    err = SceneImportHTTPError(status_code=status_for(exc), detail=str(exc))
    err.__cause__ = exc
    return err


__all__ = ["STATUS", "RequestError", "RequestTooLarge", "for_api", "status_for"]

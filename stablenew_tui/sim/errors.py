"""Failures as each server puts them on the wire.

A1111 wraps every exception as `{"error": <class>, "detail", "body", "errors": str(exc)}` with the
exception's status (500 unless it is an HTTPException); on its Starlette 0.26 an HTTPException
raised with keyword arguments has an empty str(), so those bodies carry `"errors": ""`. Forge
lost that middleware: its HTTP errors are FastAPI's plain `{"detail": ...}` and anything else goes
to a handler with `"message"` instead of `"errors"`. SD.Next adds the status as `code`. Request
validation stays FastAPI's 422 `{"detail": [...]}` everywhere, in pydantic 1's shape on A1111
(see `sim.validation`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from stablenew_tui.sim.flavors import Server


class SimHTTPError(Exception):
    """What the real servers raise as `fastapi.HTTPException`: a status and a detail."""

    error_class = "HTTPException"

    def __init__(
        self, status_code: int, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.headers = headers
        super().__init__(f"{status_code}: {detail}")


class SimServerError(Exception):
    """An exception the real server does not anticipate (RuntimeError, OutOfMemoryError, ...).

    `body` is what the server's handler finds in the exception's `body` attribute: only FastAPI's
    validation errors carry one."""

    def __init__(
        self, error_class: str, message: str, status_code: int = 500, body: Any = ""
    ) -> None:
        self.error_class = error_class
        self.status_code = status_code
        self.headers: dict[str, str] | None = None
        self.body = body
        super().__init__(message)


class SimAnswer(Exception):
    """An endpoint returning a JSONResponse of its own making instead of raising: the body is
    sent as it is, past every error handler."""

    def __init__(self, status_code: int, content: Any) -> None:
        self.status_code = status_code
        self.content = content
        super().__init__(f"{status_code}: {content}")


def error_body(server: Server, error: Exception) -> dict[str, Any]:
    error_class = getattr(error, "error_class", type(error).__name__)
    status = getattr(error, "status_code", 500)
    detail = getattr(error, "detail", "")
    body = getattr(error, "body", "")
    is_http = isinstance(error, SimHTTPError)
    if server is Server.FORGE:
        # webui.py `_handle_exception`; HTTPExceptions never reach it.
        if is_http:
            return {"detail": detail}
        return {"error": error_class, "detail": detail, "body": body, "message": str(error)}
    if server is Server.SDNEXT:
        # modules/api/middleware.py `handle_exception`; Starlette 0.46 HTTPException.__str__.
        return {
            "error": error_class,
            "code": status,
            "detail": detail,
            "body": body,
            "errors": str(error),
        }
    # modules/api/api.py `api_middleware.handle_exception`.
    return {
        "error": error_class,
        "detail": detail,
        "body": body,
        "errors": "" if is_http else str(error),
    }


def error_response(server: Server, error: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=getattr(error, "status_code", 500),
        content=error_body(server, error),
        headers=getattr(error, "headers", None),
    )


def install_error_handlers(app: FastAPI, server: Server) -> None:
    async def handle(_request: Request, error: Exception) -> JSONResponse:
        return error_response(server, error)

    async def answer(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, SimAnswer)
        return JSONResponse(status_code=error.status_code, content=error.content)

    app.add_exception_handler(SimHTTPError, handle)
    app.add_exception_handler(SimServerError, handle)
    app.add_exception_handler(SimAnswer, answer)

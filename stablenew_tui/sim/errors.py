"""Failures as each flavor puts them on the wire.

A1111 wraps every exception as `{"error": <class>, "detail", "body", "errors": str(exc)}` with the
exception's status (500 unless it is an HTTPException). Forge lost that middleware, so its HTTP
errors are FastAPI's plain `{"detail": ...}`. SD.Next adds the status as `code`. Validation errors
stay FastAPI's 422 `{"detail": [{loc, msg, type, ...}]}` everywhere, as on the real servers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from stablenew_tui.sim.flavors import ErrorStyle


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
    """An exception the real server does not anticipate (RuntimeError, OutOfMemoryError, ...)."""

    def __init__(self, error_class: str, message: str, status_code: int = 500) -> None:
        self.error_class = error_class
        self.status_code = status_code
        self.headers: dict[str, str] | None = None
        super().__init__(message)


def error_body(style: ErrorStyle, error: Exception) -> dict[str, Any]:
    error_class = getattr(error, "error_class", type(error).__name__)
    status = getattr(error, "status_code", 500)
    detail = getattr(error, "detail", "")
    if style is ErrorStyle.FORGE:
        if isinstance(error, SimHTTPError):
            return {"detail": detail}
        return {"error": error_class, "detail": detail, "body": "", "message": str(error)}
    if style is ErrorStyle.SDNEXT:
        return {
            "error": error_class,
            "code": status,
            "detail": detail,
            "body": "",
            "errors": str(error),
        }
    return {"error": error_class, "detail": detail, "body": "", "errors": str(error)}


def error_response(style: ErrorStyle, error: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=getattr(error, "status_code", 500),
        content=error_body(style, error),
        headers=getattr(error, "headers", None),
    )


def install_error_handlers(app: FastAPI, style: ErrorStyle) -> None:
    async def handle(_request: Request, error: Exception) -> JSONResponse:
        return error_response(style, error)

    app.add_exception_handler(SimHTTPError, handle)
    app.add_exception_handler(SimServerError, handle)

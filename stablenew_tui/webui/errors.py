"""What can go wrong talking to a WebUI, as a small family a person can read.

Messages name the node and say what happened in plain words. They never contain credentials:
URLs are stored without user info and auth headers are never formatted into text.
"""

from __future__ import annotations

from typing import Any

from stablenew_tui.errors import StableNewError


class WebUIError(StableNewError):
    def __init__(self, node: str, message: str) -> None:
        self.node = node
        self.message = message
        super().__init__(f"{node}: {message}")


class WebUIUnavailable(WebUIError):
    """Nothing answered, or the connection dropped before an answer came."""


class WebUITimedOut(WebUIError):
    """The server accepted the request but did not answer in time."""


class WebUIUnauthorized(WebUIError):
    """The server wants (other) credentials."""


class WebUIRejected(WebUIError):
    """The server answered with an error; `reason` is its own explanation."""

    def __init__(self, node: str, status: int, reason: str, endpoint: str) -> None:
        self.status = status
        self.reason = reason
        self.endpoint = endpoint
        super().__init__(node, f"{endpoint} rejected ({status}): {reason}")


class WebUIOutOfMemory(WebUIRejected):
    """The GPU ran out of memory; the same job on the same node will fail again."""


class WebUIBadAnswer(WebUIError):
    """The server answered 200 with something that is not what the API promises."""


class ModelLoadFailed(WebUIError):
    """The server could not load the checkpoint a request asked for."""


class AnswerMismatch(WebUIError):
    """The server answered with an image made with something other than what was asked.

    `retriable` when sending the request again can help: the checkpoint or VAE on the node
    changed under the request. A different sampler, seed or size would come back the same."""

    def __init__(self, node: str, differences: list[str], *, retriable: bool) -> None:
        self.differences = differences
        self.retriable = retriable
        super().__init__(node, "; ".join(differences))


def reason_from_body(body: Any, fallback: str) -> str:
    """One line from any of the error shapes A1111, Forge, SD.Next and FastAPI use."""
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list):  # FastAPI validation: [{loc, msg, type}]
            return "; ".join(_validation_item(item) for item in detail) or fallback
        parts = [
            str(body[key]).strip()
            for key in ("error", "detail", "message", "errors")
            if body.get(key) not in (None, "", [], {})
        ]
        # "RuntimeError: RuntimeError: ..." reads badly; keep distinct parts only.
        unique = [part for index, part in enumerate(parts) if part not in parts[:index]]
        if unique:
            return ": ".join(unique)[:500]
    if isinstance(body, str) and body.strip():
        return body.strip().splitlines()[-1][:500]
    return fallback


def _validation_item(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    location = ".".join(str(part) for part in item.get("loc", []) if part != "body")
    message = item.get("msg", "invalid")
    return f"{location}: {message}" if location else str(message)


def is_out_of_memory(reason: str) -> bool:
    return "out of memory" in reason.lower()

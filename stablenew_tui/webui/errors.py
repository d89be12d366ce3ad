"""What can go wrong talking to a WebUI, as a small family a person can read.

Messages name the node and say what happened in plain words. They never contain credentials:
URLs are stored without user info and auth headers are never formatted into text.
"""

from __future__ import annotations

import html
import re
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

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


class WebUIStalled(WebUIError):
    """The server kept a generation request without its progress advancing; it was cut off."""


class WebUIUnauthorized(WebUIError):
    """The server wants (other) credentials."""


class WebUIRejected(WebUIError):
    """The server answered with an error; `reason` is its own explanation."""

    def __init__(self, node: str, status: int, reason: str, endpoint: str) -> None:
        self.status = status
        self.reason = reason
        self.endpoint = endpoint
        super().__init__(node, self._describe())

    def _describe(self) -> str:
        return f"{self.endpoint} rejected ({self.status}): {self.reason}"


class WebUIOutOfMemory(WebUIRejected):
    """The GPU ran out of memory; the same job on the same node will fail again. SD.Next
    tells only by answering 200 without images (status 200 here)."""

    def _describe(self) -> str:
        return super()._describe() if self.status >= 400 else f"{self.endpoint}: {self.reason}"


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


class WebUINoApi(WebUIError):
    """Something answers at the address, but no WebUI API: it was started without --api."""


class WebUICutShort(WebUIError):
    """The node answered with an image it stopped making part-way: someone else interrupted
    or skipped it (the WebUI's page, another program), or the server was going down."""


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
        if _looks_like_html(body):
            # A reverse proxy's or a login page: its title says it all ("502 Bad Gateway").
            return html_title(body) or fallback
        return body.strip().splitlines()[-1][:500]
    return fallback


def html_title(text: str) -> str | None:
    """The page's <title> (or first <h1>) as one plain line, if it has one."""
    for tag in ("title", "h1"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}\s*>", text, re.IGNORECASE | re.DOTALL)
        if match:
            title = " ".join(html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())
            if title:
                return title[:200]
    return None


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body", "<title", "<h1"))


def invalid_answer(
    node: str, endpoint: str, error: ValidationError, *, at: tuple[Any, ...] = ()
) -> WebUIBadAnswer:
    """A parse failure of a server's answer (or of its item `at`) as one plain line naming the
    field and what was wrong with it, never pydantic's text with its documentation links."""
    problem = error.errors()[0]
    field = _field_path((*at, *problem["loc"]))
    message = problem["msg"].removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    text = f"{endpoint}: invalid answer" + (f" at {field}" if field else "") + f": {message}"
    if "input" in problem and not isinstance(problem["input"], (dict, list)):
        text += f" (got {_short(problem['input'])})"
    return WebUIBadAnswer(node, text)


def _field_path(location: tuple[Any, ...]) -> str:
    """("images", 0) → "images[0]"; ("info", "seed") → "info.seed"; (0, "name") → "[0].name"."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _validation_item(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    location = ".".join(str(part) for part in item.get("loc", []) if part != "body")
    message = item.get("msg", "invalid")
    return f"{location}: {message}" if location else str(message)


def is_out_of_memory(reason: str) -> bool:
    return "out of memory" in reason.lower()


# Answers that say "not now" rather than "no": a proxy or load balancer whose WebUI is
# restarting, overloaded or slow (502, 503, 504; Cloudflare's 520-524), a request timeout
# (408) and rate limiting (429). A WebUI's own failure inside a generation is a 500
# (A1111 `modules/api/api.py` api_middleware handle_exception), and the same request fails the
# same way again, except when the GPU ran out of memory.
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504, 520, 521, 522, 523, 524})


class Trouble(StrEnum):
    """What an error says about where the fault lies, and so what may help."""

    TRANSIENT = "transient"  # the link or the server is in a bad spell: try again later
    NODE_LIMIT = "node limit"  # this node cannot make this job (out of memory); another may
    NODE_UNUSABLE = "node unusable"  # this node takes no job at all (credentials, no API)
    REQUEST = "request"  # the request itself is refused: it fails the same way anywhere


def trouble_of(error: WebUIError) -> Trouble:
    """Where `error` puts the fault, and so what may help (see `Trouble`)."""
    if isinstance(error, WebUIOutOfMemory):
        return Trouble.NODE_LIMIT
    if isinstance(error, (WebUIUnauthorized, WebUINoApi)):
        return Trouble.NODE_UNUSABLE
    if isinstance(error, WebUIRejected):
        return Trouble.TRANSIENT if error.status in TRANSIENT_STATUSES else Trouble.REQUEST
    if isinstance(error, (WebUIUnavailable, WebUITimedOut, WebUIStalled, WebUICutShort)):
        return Trouble.TRANSIENT
    return Trouble.REQUEST

"""HTTP for one WebUI node: timeouts, safe retries, and error translation.

Retry rule, the first and shortest of the one retry policy (`errors.trouble_of`): a request
is repeated, up to `[client] retries` times within the call, only when the error is transient
and repeating the request cannot do anything twice, i.e. GETs, and any request whose
connection was refused before the server saw it. A generation that fails transiently is
retried by the engine instead, for a bounded time, on this node or another.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import httpx
from httpx._client import UseClientDefault

from stablenew_tui.config import ClientConfig, NodeConfig
from stablenew_tui.webui.errors import (
    Trouble,
    WebUIBadAnswer,
    WebUIError,
    WebUIOutOfMemory,
    WebUIRejected,
    WebUITimedOut,
    WebUIUnauthorized,
    WebUIUnavailable,
    html_title,
    is_out_of_memory,
    reason_from_body,
    trouble_of,
)

log = logging.getLogger("stablenew.webui")

API = "/sdapi/v1"  # where A1111, Forge and SD.Next serve their API

# Quick answers (catalog, options, progress) should not wait like a generation does.
QUICK_READ_TIMEOUT = 30.0
# The longest wait between two tries of a request within one call.
MAX_RETRY_DELAY = 5.0


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """How long to wait after the `failures`-th failure in a row: doubling from `base` up to
    `cap`, drawn at random from the upper half of that so that clients hit by the same outage
    do not all come back at the same instant."""
    delay = min(cap, base * 2 ** (failures - 1))
    return random.uniform(delay / 2, delay)


class NodeTransport:
    def __init__(
        self,
        node: NodeConfig,
        settings: ClientConfig | None = None,
        *,
        retry_base_delay: float = 0.25,
    ) -> None:
        self.node = node
        self.settings = settings or ClientConfig()
        self.retry_base_delay = retry_base_delay
        self._http = httpx.AsyncClient(
            base_url=node.url,
            auth=node.basic_auth(),
            verify=node.verify_tls,
            timeout=httpx.Timeout(QUICK_READ_TIMEOUT, connect=self.settings.connect_timeout),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        )

    def __repr__(self) -> str:
        return f"NodeTransport({self.node.name!r}, {self.node.url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        return await self.request("GET", path, params=params, idempotent=True)

    async def post(self, path: str, body: Any = None, *, read_timeout: float | None = None) -> Any:
        return await self.request("POST", path, json=body, read_timeout=read_timeout)

    async def status_of(self, path: str) -> tuple[int, Any]:
        """One GET without retries or raising on HTTP errors, for probing what a server has."""
        response = await self._send("GET", path, None, None, timeout=None)
        return response.status_code, _json_or_none(response)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        read_timeout: float | None = None,
        idempotent: bool = False,
    ) -> Any:
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            try:
                response = await self._send(method, path, json, params, read_timeout)
                return self._answer(response, path)
            except WebUIError as error:
                if attempt + 1 >= attempts or not _may_retry(error, idempotent):
                    raise
                await asyncio.sleep(
                    backoff_delay(attempt + 1, self.retry_base_delay, MAX_RETRY_DELAY)
                )
                log.info("%s: retrying %s %s after: %s", self.node.name, method, path, error)
        raise AssertionError("unreachable")

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        timeout: float | None,
    ) -> httpx.Response:
        endpoint = path.rsplit("/", 1)[-1] or path
        started = time.perf_counter()
        request_timeout: httpx.Timeout | UseClientDefault = httpx.USE_CLIENT_DEFAULT
        if timeout is not None:
            request_timeout = httpx.Timeout(timeout, connect=self.settings.connect_timeout)
        try:
            response = await self._http.request(
                method, path, json=json, params=params, timeout=request_timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise _NotSent(
                self.node.name, f"cannot connect to {self.node.url} ({_why(error)})"
            ) from None
        except httpx.TimeoutException:
            raise WebUITimedOut(self.node.name, f"{endpoint} did not answer in time") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
            raise WebUIUnavailable(
                self.node.name, f"connection dropped during {endpoint} ({_why(error)})"
            ) from None
        except httpx.HTTPError as error:
            raise WebUIUnavailable(self.node.name, f"{endpoint} failed: {_why(error)}") from None
        log.debug(
            "%s %s %s -> %s in %.0f ms",
            self.node.name,
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _refused_because(self) -> str:
        node = self.node
        if node.password_env and node.resolved_password() is None:
            return f"a password is required, and {node.password_env} (password_env) is not set"
        return f"a user and password {'were not accepted' if node.basic_auth() else 'are required'}"

    def _answer(self, response: httpx.Response, path: str) -> Any:
        endpoint = path.rsplit("/", 1)[-1] or path
        status = response.status_code
        if status == 401:
            raise WebUIUnauthorized(self.node.name, self._refused_because())
        if status >= 400:
            body = _json_or_none(response)
            reason = reason_from_body(
                body if body is not None else response.text, response.reason_phrase
            )
            error_class = WebUIOutOfMemory if is_out_of_memory(reason) else WebUIRejected
            raise error_class(self.node.name, status, reason, endpoint)
        if not response.content:
            return None
        body = _json_or_none(response)
        if body is None and response.content.strip() != b"null":
            title = html_title(response.text)
            what = f"a web page ({title!r})" if title else "something not JSON"
            raise WebUIBadAnswer(self.node.name, f"{endpoint} answered with {what}")
        return body


class _NotSent(WebUIUnavailable):
    """The connection failed before the request left: always safe to try again."""


def _may_retry(error: WebUIError, idempotent: bool) -> bool:
    return isinstance(error, _NotSent) or (idempotent and trouble_of(error) is Trouble.TRANSIENT)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _why(error: Exception) -> str:
    """The root cause in a few words (httpx wraps "connection refused" in a generic text)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = str(error).strip()
    return text.splitlines()[-1][:200] if text else type(error).__name__

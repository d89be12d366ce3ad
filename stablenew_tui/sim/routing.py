"""Registering /sdapi/v1 routes only on the flavors whose server has them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.responses import Response

from stablenew_tui.sim.flavors import Flavor

API = "/sdapi/v1"
Handler = TypeVar("Handler", bound=Callable[..., Any])


class Routes:
    """`@routes.get("sd-vae")` registers GET /sdapi/v1/sd-vae if the flavor serves it."""

    def __init__(self, app: FastAPI, flavor: Flavor) -> None:
        self.app = app
        self.flavor = flavor

    def get(self, name: str) -> Callable[[Handler], Handler]:
        return self._route("GET", name)

    def post(self, name: str) -> Callable[[Handler], Handler]:
        return self._route("POST", name)

    def _route(self, method: str, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if self.flavor.serves(name):
                self.app.add_api_route(f"{API}/{name}", handler, methods=[method])
            return handler

        return register

    def done(self, a1111_answer: Any = None) -> Any:
        """What a command route answers: SD.Next registers them with status 204 and returns an
        empty Response (modules/api/server.py, endpoints.py); A1111 returns `a1111_answer`."""
        return Response(status_code=204) if self.flavor.is_sdnext else a1111_answer

"""Assembles one simulated WebUI: FastAPI routes for the flavor, error handlers, and the front
layer that records requests, injects faults and checks auth."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from stablenew_tui.sim.errors import install_error_handlers
from stablenew_tui.sim.front import SimFront
from stablenew_tui.sim.routes_admin import add_admin_routes
from stablenew_tui.sim.routes_api import API, add_api_routes
from stablenew_tui.sim.routes_generate import add_generation_routes
from stablenew_tui.sim.state import SimState

# The built-in Lora extension registers its route without the --api-auth dependency.
_NEVER_AUTHENTICATED = frozenset({f"{API}/loras"})


def build_app(sim: SimState) -> SimFront:
    app = FastAPI(title="Stable Diffusion WebUI API (simulated)", version=sim.flavor.version)
    install_error_handlers(app, sim.flavor.error_style)
    add_api_routes(app, sim)
    add_generation_routes(app, sim)
    add_admin_routes(app, sim)
    open_paths = set(_NEVER_AUTHENTICATED)
    if not sim.flavor.progress_needs_auth:
        open_paths.add(f"{API}/progress")
    # Only routes that exist ask for credentials: an unknown path is a plain 404, as on the
    # real server, which is how clients detect missing endpoints.
    protected = frozenset(
        route.path
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.path.startswith("/sdapi/")
        and route.path not in open_paths
    )
    return SimFront(app, sim, protected.__contains__)

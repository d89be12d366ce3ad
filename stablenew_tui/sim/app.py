"""Assembles one simulated WebUI: FastAPI routes for the flavor, error handlers, and the front
layer that records requests, injects faults and checks auth."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from stablenew_tui.sim.adetailer import add_adetailer_routes
from stablenew_tui.sim.errors import install_error_handlers
from stablenew_tui.sim.front import SimFront
from stablenew_tui.sim.routes_admin import add_admin_routes
from stablenew_tui.sim.routes_api import add_api_routes
from stablenew_tui.sim.routes_catalog import add_catalog_routes
from stablenew_tui.sim.routes_generate import add_generation_routes
from stablenew_tui.sim.routes_server import add_server_routes
from stablenew_tui.sim.routing import API, Routes
from stablenew_tui.sim.state import SimState
from stablenew_tui.sim.validation import install_pydantic_v1_errors

# The built-in Lora extension registers its routes on the app directly, without the --api-auth
# dependency, and whether or not --api was given (extensions-builtin/Lora/scripts/
# lora_script.py `api_networks`). SD.Next registers them like any other API route.
_LORA_ROUTES = frozenset({f"{API}/loras", f"{API}/refresh-loras"})


def build_app(sim: SimState) -> SimFront:
    flavor = sim.flavor
    app = FastAPI(title="Stable Diffusion WebUI API (simulated)", version=flavor.version)
    install_error_handlers(app, flavor.server)
    if flavor.pydantic_v1:
        install_pydantic_v1_errors(app)
    routes = Routes(app, flavor)
    add_catalog_routes(routes, sim)
    add_api_routes(routes, sim)
    add_generation_routes(routes, sim)
    add_server_routes(app, routes, sim)
    add_admin_routes(app, sim)
    add_adetailer_routes(app, flavor)
    open_paths = frozenset() if flavor.is_sdnext else _LORA_ROUTES
    # Only routes that exist ask for credentials: an unknown path is a plain 404, as on the
    # real server, which is how clients detect missing endpoints.
    protected = frozenset(
        route.path
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.path.startswith("/sdapi/")
        and route.path not in open_paths
    )

    def without_api(path: str) -> bool:
        return path.startswith("/sdapi/") and path not in open_paths

    return SimFront(app, sim, protected.__contains__, without_api)

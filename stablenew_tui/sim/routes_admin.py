"""The simulator's own control routes under /sim/: faults, the request log, the node's speed and a
status summary.

They are not part of any WebUI API, so they are never recorded, faulted or behind auth.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from stablenew_tui.sim.errors import SimHTTPError
from stablenew_tui.sim.faults import FaultKind
from stablenew_tui.sim.state import SimState


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    count: int = 1
    path: str | None = None
    seconds: float | None = None
    status: int = 500
    message: str | None = None
    now: bool = False  # kind "down" only: go down right after answering, not on the next request


class SpeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    speed: float = Field(ge=0)  # 0: instant


def add_admin_routes(app: FastAPI, sim: SimState) -> None:
    def pending() -> dict[str, Any]:
        return {"pending": [fault.as_json() for fault in sim.faults.pending]}

    @app.get("/sim/faults")
    async def list_faults() -> dict[str, Any]:
        return pending()

    @app.post("/sim/faults")
    async def add_fault(fault: FaultRequest) -> JSONResponse:
        if fault.now:
            if fault.kind is not FaultKind.DOWN or fault.seconds is None:
                raise SimHTTPError(400, '"now" needs kind "down" and seconds')

            async def go_down() -> None:
                sim.faults.down_now(fault.seconds or 0.0)

            # After the answer is sent, or the caller would see its own connection dropped.
            return JSONResponse(pending(), background=BackgroundTask(go_down))
        try:
            sim.faults.add(
                fault.kind,
                fault.count,
                path=fault.path,
                seconds=fault.seconds,
                status=fault.status,
                message=fault.message,
            )
        except ValueError as error:
            raise SimHTTPError(400, str(error)) from error
        return JSONResponse(pending())

    @app.delete("/sim/faults")
    async def clear_faults() -> dict[str, Any]:
        sim.faults.clear()
        return pending()

    @app.get("/sim/requests")
    async def list_requests() -> list[dict[str, Any]]:
        return [entry.as_json() for entry in sim.requests]

    @app.delete("/sim/requests")
    async def clear_requests() -> dict[str, Any]:
        sim.requests.clear()
        return {"cleared": True}

    @app.get("/sim/status")
    async def status() -> dict[str, Any]:
        engine = sim.engine
        return {
            "flavor": sim.flavor.name,
            "version": sim.flavor.version,
            "speed": engine.speed,
            "busy": engine.busy,
            "waiting": engine.waiting,
            "job": engine.state.job,
            "model": sim.loaded_checkpoint.title,
            "vae": sim.loaded_vae.name,
            "checkpoint_loads": sim.checkpoint_loads,
            "load_scale": sim.load_scale,
            "requests_received": sim.requests.total,
        }

    @app.post("/sim/speed")
    async def set_speed(change: SpeedRequest) -> dict[str, Any]:
        """A GPU slowing down (thermal throttling, another process on it) or speeding up; a
        job under way goes at the new speed from its next step."""
        sim.engine.speed = change.speed
        return await status()

"""The WebUI servers the simulator can pretend to be, and how each one differs on the wire.

Clients tell servers apart by probing: `sd-modules` answering 200 means Forge, `/sdapi/v1/version`
means SD.Next, `schedulers` answering 404 means A1111 older than 1.9.1. Each flavor below answers
those probes the way the real server does. Every behaviour that differs between flavors is listed,
with the real source it was read from, in `stablenew_tui/sim/README.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Server(StrEnum):
    """Which code base a flavor imitates; error bodies, auth and answer shapes follow it."""

    A1111 = "a1111"  # AUTOMATIC1111 on FastAPI 0.94 / pydantic 1
    FORGE = "forge"  # lllyasviel's Forge on FastAPI 0.104 / pydantic 2
    SDNEXT = "sdnext"  # vladmandic's SD.Next on FastAPI 0.124 / pydantic 2


class SamplerRules(StrEnum):
    """How a flavor resolves `sampler_name` and `scheduler`."""

    SPLIT_SCHEDULER = "split"  # v1.9+: "DPM++ 2M Karras" → sampler "DPM++ 2M" + scheduler "Karras"
    COMBINED_NAMES = "combined"  # up to v1.8: the scheduler is part of the sampler name
    DIFFUSERS = "diffusers"  # SD.Next: diffusers scheduler names, no separate scheduler field


_A1111_FAMILY = frozenset({Server.A1111, Server.FORGE})
# /sdapi/v1 routes only some servers register; every other route is on all of them (schedulers
# is decided per release, see `Flavor.has_schedulers_route`).
_ONLY_ON: dict[str, frozenset[Server]] = {
    "sd-vae": frozenset({Server.A1111, Server.SDNEXT}),
    "sd-modules": frozenset({Server.FORGE}),
    "latent-upscale-modes": _A1111_FAMILY,
    "hypernetworks": _A1111_FAMILY,
    "realesrgan-models": _A1111_FAMILY,
    "interrogate": _A1111_FAMILY,
    "refresh-embeddings": _A1111_FAMILY,
    "version": frozenset({Server.SDNEXT}),
    "platform": frozenset({Server.SDNEXT}),
}


@dataclass(frozen=True)
class Flavor:
    name: str
    server: Server
    version: str  # what /internal/sysinfo, the infotext and info["version"] report
    install_root: str  # where the fake model files live; shows up in every `filename`
    sampler_rules: SamplerRules
    # Status of the "Sampler not found" answer; unreachable since v1.9, which replaces an
    # unknown sampler (see samplers.resolve_sampler).
    unknown_sampler_status: int
    has_schedulers_route: bool
    # The pydantic bounds of the extras `upscaling_resize` field, as Field() keywords.
    upscaling_resize_bounds: tuple[tuple[str, float], ...]
    default_sampler: str  # what the request model's `sampler_index` defaults to
    default_steps: int
    default_size: int
    default_cfg_scale: float

    @property
    def is_forge(self) -> bool:
        return self.server is Server.FORGE

    @property
    def is_sdnext(self) -> bool:
        return self.server is Server.SDNEXT

    @property
    def pydantic_v1(self) -> bool:
        """A1111 pins FastAPI 0.94, so pydantic 1 validates requests and shapes the 422s."""
        return self.server is Server.A1111

    @property
    def has_sysinfo_route(self) -> bool:
        return self.server is not Server.SDNEXT

    def serves(self, route: str) -> bool:
        """Whether /sdapi/v1/`route` exists on this server."""
        if route == "schedulers":
            return self.has_schedulers_route
        servers = _ONLY_ON.get(route)
        return servers is None or self.server in servers


_A1111 = Flavor(
    name="a1111",
    server=Server.A1111,
    version="v1.10.1",
    install_root="/home/user/stable-diffusion-webui",
    sampler_rules=SamplerRules.SPLIT_SCHEDULER,
    unknown_sampler_status=400,
    has_schedulers_route=True,
    upscaling_resize_bounds=(("gt", 0),),
    default_sampler="Euler",
    default_steps=50,
    default_size=512,
    default_cfg_scale=7.0,
)
# Each other flavor, said as what it changes from A1111 1.10.
FLAVORS: dict[str, Flavor] = {
    flavor.name: flavor
    for flavor in (
        _A1111,
        replace(
            _A1111,
            name="a1111-1.8",
            version="v1.8.0",
            sampler_rules=SamplerRules.COMBINED_NAMES,
            unknown_sampler_status=404,
            has_schedulers_route=False,
            upscaling_resize_bounds=(("ge", 1), ("le", 8)),
        ),
        replace(
            _A1111,
            name="forge",
            server=Server.FORGE,
            version="f2.0.1v1.10.1-previous-669-gdfdcbab6",
            install_root="/home/user/stable-diffusion-webui-forge",
        ),
        replace(
            _A1111,
            name="sdnext",
            server=Server.SDNEXT,
            version="2026-07-23",
            install_root="/home/user/sdnext",
            sampler_rules=SamplerRules.DIFFUSERS,
            unknown_sampler_status=404,
            upscaling_resize_bounds=(("ge", 1), ("le", 8)),
            default_sampler="Default",
            default_steps=20,
            default_size=1024,
            default_cfg_scale=6.0,
        ),
    )
}


def get_flavor(name: str) -> Flavor:
    """The flavor called `name`; ValueError naming the choices otherwise."""
    try:
        return FLAVORS[name]
    except KeyError:
        choices = ", ".join(FLAVORS)
        raise ValueError(f"unknown flavor {name!r} (choose from {choices})") from None

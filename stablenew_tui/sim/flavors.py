"""The WebUI servers the simulator can pretend to be, and how each one differs on the wire.

Clients tell servers apart by probing: `sd-modules` answering 200 means Forge, `/sdapi/v1/version`
means SD.Next, `schedulers` answering 404 means A1111 older than 1.9.1. Each flavor below answers
those probes the way the real server does, and keeps its own defaults and error-body shape.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class ErrorStyle(StrEnum):
    """How a flavor renders a failed request (see `sim.errors`)."""

    A1111 = "a1111"  # {"error", "detail", "body", "errors"}
    FORGE = "forge"  # {"detail"} for HTTP errors, {"error", "detail", "body", "message"} otherwise
    SDNEXT = "sdnext"  # {"error", "code", "detail", "body", "errors"}


class SamplerRules(StrEnum):
    """How a flavor resolves `sampler_name` and `scheduler`."""

    SPLIT_SCHEDULER = "split"  # v1.9+: "DPM++ 2M Karras" → sampler "DPM++ 2M" + scheduler "Karras"
    COMBINED_NAMES = "combined"  # up to v1.8: the scheduler is part of the sampler name
    DIFFUSERS = "diffusers"  # SD.Next: diffusers scheduler names, no separate scheduler field


@dataclass(frozen=True)
class Flavor:
    name: str
    version: str  # what /internal/sysinfo, the infotext and info["version"] report
    install_root: str  # where the fake model files live; shows up in every `filename`
    sampler_rules: SamplerRules
    # Status of the "Sampler not found" answer; unreachable since v1.9, which replaces an
    # unknown sampler (see samplers.resolve_sampler).
    unknown_sampler_status: int
    error_style: ErrorStyle
    has_schedulers_route: bool
    has_vae_route: bool  # /sdapi/v1/sd-vae
    has_modules_route: bool  # /sdapi/v1/sd-modules (Forge: VAE and text encoders)
    has_sysinfo_route: bool  # /internal/sysinfo
    has_version_route: bool  # /sdapi/v1/version (SD.Next)
    progress_needs_auth: bool  # Forge registers /progress without the --api-auth dependency
    default_sampler: str  # what the request model's `sampler_index` defaults to
    default_steps: int
    default_size: int
    default_cfg_scale: float

    @property
    def is_forge(self) -> bool:
        return self.has_modules_route


_A1111 = Flavor(
    name="a1111",
    version="v1.10.1",
    install_root="/home/user/stable-diffusion-webui",
    sampler_rules=SamplerRules.SPLIT_SCHEDULER,
    unknown_sampler_status=400,
    error_style=ErrorStyle.A1111,
    has_schedulers_route=True,
    has_vae_route=True,
    has_modules_route=False,
    has_sysinfo_route=True,
    has_version_route=False,
    progress_needs_auth=True,
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
        ),
        replace(
            _A1111,
            name="forge",
            version="f2.0.1v1.10.1-previous-669-gdfdcbab6",
            install_root="/home/user/stable-diffusion-webui-forge",
            error_style=ErrorStyle.FORGE,
            has_vae_route=False,
            has_modules_route=True,
            progress_needs_auth=False,
        ),
        replace(
            _A1111,
            name="sdnext",
            version="2025-07-29",
            install_root="/home/user/sdnext",
            sampler_rules=SamplerRules.DIFFUSERS,
            unknown_sampler_status=404,
            error_style=ErrorStyle.SDNEXT,
            has_schedulers_route=False,
            has_sysinfo_route=False,
            has_version_route=True,
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

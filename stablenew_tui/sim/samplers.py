"""Sampler and scheduler lists per flavor, and how each flavor resolves a requested name.

The names, aliases and options are the ones the real servers list, because clients validate
user choices against `/samplers` and `/schedulers` and must cope with all three naming schemes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stablenew_tui.sim.errors import SimHTTPError
from stablenew_tui.sim.flavors import Flavor, SamplerRules


@dataclass(frozen=True)
class Sampler:
    name: str
    aliases: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)

    def as_json(self, *, stringify_options: bool) -> dict[str, Any]:
        # A1111's response model declares option values as strings, so pydantic turns True
        # into "True"; Forge sends them untyped.
        options = (
            {k: str(v) for k, v in self.options.items()} if stringify_options else self.options
        )
        return {"name": self.name, "aliases": list(self.aliases), "options": dict(options)}


@dataclass(frozen=True)
class Scheduler:
    name: str
    label: str
    aliases: tuple[str, ...] | None = None
    default_rho: float = -1
    need_inner_model: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "aliases": list(self.aliases) if self.aliases is not None else None,
            "default_rho": self.default_rho,
            "need_inner_model": self.need_inner_model,
        }


def _s(name: str, *aliases: str, **options: Any) -> Sampler:
    return Sampler(name, aliases, options)


_KARRAS = {"scheduler": "karras"}
_EXPONENTIAL = {"scheduler": "exponential"}

# v1.9 and later (and Forge): plain sampler names, the schedule is a separate field.
SPLIT_SAMPLERS: tuple[Sampler, ...] = (
    _s("DPM++ 2M", "k_dpmpp_2m", **_KARRAS),
    _s("DPM++ SDE", "k_dpmpp_sde", **_KARRAS, second_order=True, brownian_noise=True),
    _s("DPM++ 2M SDE", "k_dpmpp_2m_sde", **_EXPONENTIAL, brownian_noise=True),
    _s(
        "DPM++ 2M SDE Heun",
        "k_dpmpp_2m_sde_heun",
        **_EXPONENTIAL,
        brownian_noise=True,
        solver_type="heun",
    ),
    _s("DPM++ 2S a", "k_dpmpp_2s_a", **_KARRAS, uses_ensd=True, second_order=True),
    _s(
        "DPM++ 3M SDE",
        "k_dpmpp_3m_sde",
        **_EXPONENTIAL,
        discard_next_to_last_sigma=True,
        brownian_noise=True,
    ),
    _s("Euler a", "k_euler_a", "k_euler_ancestral", uses_ensd=True),
    _s("Euler", "k_euler"),
    _s("LMS", "k_lms"),
    _s("Heun", "k_heun", second_order=True),
    _s("DPM2", "k_dpm_2", **_KARRAS, discard_next_to_last_sigma=True, second_order=True),
    _s(
        "DPM2 a",
        "k_dpm_2_a",
        **_KARRAS,
        discard_next_to_last_sigma=True,
        uses_ensd=True,
        second_order=True,
    ),
    _s("DPM fast", "k_dpm_fast", uses_ensd=True),
    _s("DPM adaptive", "k_dpm_ad", uses_ensd=True),
    _s("Restart", "restart", **_KARRAS, second_order=True),
    _s("DDIM", "ddim"),
    _s("DDIM CFG++", "ddim_cfgpp"),
    _s("PLMS", "plms"),
    _s("UniPC", "unipc"),
    _s("LCM", "k_lcm"),
)

# v1.8 and earlier: the schedule is baked into the sampler name.
COMBINED_SAMPLERS: tuple[Sampler, ...] = (
    _s("DPM++ 2M Karras", "k_dpmpp_2m_ka", **_KARRAS),
    _s("DPM++ SDE Karras", "k_dpmpp_sde_ka", **_KARRAS, second_order=True, brownian_noise=True),
    _s("DPM++ 2M SDE Exponential", "k_dpmpp_2m_sde_exp", **_EXPONENTIAL, brownian_noise=True),
    _s("DPM++ 2M SDE Karras", "k_dpmpp_2m_sde_ka", **_KARRAS, brownian_noise=True),
    _s("Euler a", "k_euler_a", "k_euler_ancestral", uses_ensd=True),
    _s("Euler", "k_euler"),
    _s("LMS", "k_lms"),
    _s("Heun", "k_heun", second_order=True),
    _s("DPM2", "k_dpm_2", discard_next_to_last_sigma=True, second_order=True),
    _s("DPM2 a", "k_dpm_2_a", discard_next_to_last_sigma=True, uses_ensd=True, second_order=True),
    _s("DPM++ 2S a", "k_dpmpp_2s_a", uses_ensd=True, second_order=True),
    _s("DPM++ 2M", "k_dpmpp_2m"),
    _s("DPM++ SDE", "k_dpmpp_sde", second_order=True, brownian_noise=True),
    _s("DPM++ 2M SDE", "k_dpmpp_2m_sde", brownian_noise=True),
    _s("DPM++ 2M SDE Heun", "k_dpmpp_2m_sde_heun", brownian_noise=True, solver_type="heun"),
    _s("DPM++ 3M SDE", "k_dpmpp_3m_sde", discard_next_to_last_sigma=True, brownian_noise=True),
    _s(
        "DPM++ 3M SDE Karras",
        "k_dpmpp_3m_sde_ka",
        **_KARRAS,
        discard_next_to_last_sigma=True,
        brownian_noise=True,
    ),
    _s("DPM fast", "k_dpm_fast", uses_ensd=True),
    _s("DPM adaptive", "k_dpm_ad", uses_ensd=True),
    _s("LMS Karras", "k_lms_ka", **_KARRAS),
    _s("DPM2 Karras", "k_dpm_2_ka", **_KARRAS, discard_next_to_last_sigma=True, second_order=True),
    _s(
        "DPM2 a Karras",
        "k_dpm_2_a_ka",
        **_KARRAS,
        discard_next_to_last_sigma=True,
        uses_ensd=True,
        second_order=True,
    ),
    _s("DPM++ 2S a Karras", "k_dpmpp_2s_a_ka", **_KARRAS, uses_ensd=True, second_order=True),
    _s("Restart", "restart", **_KARRAS, second_order=True),
    _s("DDIM", "ddim"),
    _s("PLMS", "plms"),
    _s("UniPC", "unipc"),
    _s("LCM", "k_lcm"),
)

# SD.Next: diffusers schedulers under its own names, with their scheduler config as options
# (modules/sd_samplers_diffusers.py `config`, abridged). "Default" keeps the model's own
# scheduler; /samplers does not list it (modules/api/endpoints.py `get_samplers`).
_LINSPACE = {"timestep_spacing": "linspace"}
_SIGMAS = {"use_karras_sigmas": False, "use_exponential_sigmas": False, "use_beta_sigmas": False}
_DPM = {"algorithm_type": "dpmsolver++", "solver_type": "midpoint", **_SIGMAS, **_LINSPACE}
_SDE = _DPM | {"algorithm_type": "sde-dpmsolver++"}
DIFFUSERS_SAMPLERS: tuple[Sampler, ...] = (
    _s("Default"),
    _s("UniPC", solver_order=2, solver_type="bh2", predict_x0=True, **_SIGMAS, **_LINSPACE),
    _s("DDIM", clip_sample=False, set_alpha_to_one=True, timestep_spacing="leading"),
    _s("Euler", interpolation_type="linear", final_sigmas_type="zero", **_SIGMAS, **_LINSPACE),
    _s("Euler a", steps_offset=0, rescale_betas_zero_snr=False, **_LINSPACE),
    _s("Euler SGM", timestep_spacing="trailing", prediction_type="sample", **_SIGMAS),
    _s("Euler EDM", sigma_schedule="karras"),
    _s("Euler FlowMatch", shift=1, use_dynamic_shifting=False, **_SIGMAS, **_LINSPACE),
    _s("DPM++", solver_order=1, **_DPM),
    _s("DPM++ 2M", solver_order=2, **_DPM),
    _s("DPM++ 3M", solver_order=3, **_DPM),
    _s("DPM++ 1S", solver_order=2, final_sigmas_type="sigma_min", **_DPM),
    _s("DPM++ SDE", solver_order=1, **_SDE),
    _s("DPM++ 2M SDE", solver_order=2, **_SDE),
    _s("DPM++ 2M EDM", solver_order=2, solver_type="midpoint", algorithm_type="dpmsolver++"),
    _s("DPM SDE", steps_offset=0, **_SIGMAS, **_LINSPACE),
    _s("Heun", **_SIGMAS, **_LINSPACE),
    _s("DEIS", solver_order=2, algorithm_type="deis", solver_type="logrho", **_LINSPACE),
    _s("SA Solver", predictor_order=2, corrector_order=2, **_LINSPACE),
    _s("TCD", set_alpha_to_one=True, beta_schedule="scaled_linear"),
    _s("LCM"),
    _s("PNDM", skip_prk_steps=False, set_alpha_to_one=False, **_LINSPACE),
    _s("DDPM", variance_type="fixed_small", clip_sample=False, **_LINSPACE),
    _s("LMSD", steps_offset=0, **_SIGMAS, **_LINSPACE),
    _s("KDPM2", steps_offset=0, **_SIGMAS, **_LINSPACE),
    _s("KDPM2 a", steps_offset=0, **_SIGMAS, **_LINSPACE),
)

SCHEDULERS: tuple[Scheduler, ...] = (
    Scheduler("automatic", "Automatic"),
    Scheduler("uniform", "Uniform", need_inner_model=True),
    Scheduler("karras", "Karras", default_rho=7.0),
    Scheduler("exponential", "Exponential"),
    Scheduler("polyexponential", "Polyexponential", default_rho=1.0),
    Scheduler("sgm_uniform", "SGM Uniform", aliases=("SGMUniform",), need_inner_model=True),
    Scheduler("kl_optimal", "KL Optimal"),
    Scheduler("align_your_steps", "Align Your Steps"),
    Scheduler("simple", "Simple", need_inner_model=True),
    Scheduler("normal", "Normal", need_inner_model=True),
    Scheduler("ddim", "DDIM", need_inner_model=True),
    Scheduler("beta", "Beta", need_inner_model=True),
)


def samplers_for(flavor: Flavor) -> tuple[Sampler, ...]:
    return {
        SamplerRules.SPLIT_SCHEDULER: SPLIT_SAMPLERS,
        SamplerRules.COMBINED_NAMES: COMBINED_SAMPLERS,
        SamplerRules.DIFFUSERS: DIFFUSERS_SAMPLERS,
    }[flavor.sampler_rules]


def _find_scheduler(name: str | None) -> Scheduler | None:
    for scheduler in SCHEDULERS:
        if name in (scheduler.name, scheduler.label, *(scheduler.aliases or ())):
            return scheduler
    return None


def resolve_sampler(
    flavor: Flavor, sampler_name: str | None, scheduler_name: str | None
) -> tuple[str, str | None]:
    """(sampler, schedule label) the server runs with; `None` schedule where none exists.

    Since v1.9 an unknown name silently becomes the first sampler, "DPM++ 2M"
    (`modules/sd_samplers.py`, get_sampler_and_scheduler: `all_samplers_map.get(name,
    default_sampler)`), so the API's own "Sampler not found" check never fires, in A1111 1.10
    and Forge alike. v1.8 has no such step and answers 404 (`modules/api/api.py`,
    validate_sampler_name, at v1.8.0); SD.Next keeps its own rules.
    """
    by_name = {sampler.name: sampler for sampler in samplers_for(flavor)}
    name = sampler_name or flavor.default_sampler
    if flavor.sampler_rules is SamplerRules.DIFFUSERS:
        # SD.Next matches case-insensitively (modules/api/helpers.py `validate_sampler_name`).
        by_lower = {known.lower(): known for known in by_name}
        if name.lower() not in by_lower:
            raise SimHTTPError(flavor.unknown_sampler_status, "Sampler not found")
        return by_lower[name.lower()], None
    if flavor.sampler_rules is not SamplerRules.SPLIT_SCHEDULER:
        if name not in by_name:
            raise SimHTTPError(flavor.unknown_sampler_status, "Sampler not found")
        return name, None

    # An unknown scheduler silently becomes Automatic; a suffix on the sampler name wins.
    scheduler = _find_scheduler(scheduler_name) or SCHEDULERS[0]
    for candidate in SCHEDULERS[1:]:
        for label in (candidate.label, candidate.name, *(candidate.aliases or ())):
            if name.endswith(" " + label) and name not in by_name:
                scheduler, name = candidate, name[: -len(label) - 1]
                break
    sampler = by_name.get(name, samplers_for(flavor)[0])
    if scheduler is SCHEDULERS[0] and "scheduler" in sampler.options:
        # Automatic means "the sampler's own schedule", and the infotext names that schedule.
        scheduler = _find_scheduler(sampler.options["scheduler"]) or scheduler
    return sampler.name, scheduler.label

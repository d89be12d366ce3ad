"""Everything one simulated WebUI holds between requests: settings, loaded weights, queue, log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stablenew_tui.sim.catalog import Catalog, Checkpoint, fake_sha256
from stablenew_tui.sim.engine import GenerationEngine
from stablenew_tui.sim.errors import SimServerError
from stablenew_tui.sim.faults import FaultInjector
from stablenew_tui.sim.flavors import Flavor
from stablenew_tui.sim.options import default_options
from stablenew_tui.sim.requests_log import RequestLog

# Seconds at speed 1 to move weights from disk to GPU, by model family.
MODEL_LOAD_SECONDS = {"sd15": 2.0, "sdxl": 4.0, "flux": 8.0}
VAE_LOAD_SECONDS = 0.5
REFRESH_SECONDS = 0.2


@dataclass(frozen=True)
class VaeChoice:
    """The VAE a job decodes with, as the infotext names it; None name = the model's own."""

    name: str | None = None
    shorthash: str | None = None


class SimState:
    def __init__(
        self,
        flavor: Flavor,
        *,
        speed: float,
        credentials: dict[str, str] | None,
        preview: bool,
        api: bool = True,
    ) -> None:
        self.flavor = flavor
        self.api_enabled = api  # False: a WebUI started without --api
        self.catalog = Catalog(flavor)
        self.options: dict[str, Any] = default_options(flavor, self.catalog, preview=preview)
        self.engine = GenerationEngine(speed)
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.credentials = credentials
        self.freeze_settings = False  # option changes answered 200 and ignored
        self.out_of_memory_events = 0
        # Multiplies every weight load's seconds: a benchmark can make loads cost what it needs
        # relative to its images without changing the families' proportions.
        self.load_scale = 1.0
        self.checkpoint_loads = 0  # checkpoint loads started since the server started
        # Checkpoint files the loader cannot read (corrupt, or not a model): loading one fails.
        self.unloadable: set[str] = set()
        # The first checkpoint is loaded at start-up, as the WebUI does before it serves.
        self.loaded_checkpoint: Checkpoint = self.catalog.checkpoints[0]
        self.loaded_vae = self.wanted_vae()
        # unload-checkpoint moves the weights off the GPU; the next job loads them again.
        self.weights_on_device = True

    # -- what the settings ask for ------------------------------------------------------------

    def wanted_checkpoint(self) -> Checkpoint:
        """The checkpoint the options name; an unknown name falls back to the first one, as
        A1111's select_checkpoint does."""
        named = self.catalog.find_checkpoint(self.options.get("sd_model_checkpoint"))
        return named or self.catalog.checkpoints[0]

    def wanted_vae(self) -> VaeChoice:
        if self.flavor.is_forge:
            modules = self.options.get("forge_additional_modules") or []
            vaes = [path for path in modules if "/VAE/" in path]
            if not vaes:
                return VaeChoice()
            name = vaes[0].rsplit("/", 1)[-1]
            vae = self.catalog.find_vae(name)
            return VaeChoice(name, vae.shorthash if vae else None)
        vae = self.catalog.find_vae(self.options.get("sd_vae"))
        return VaeChoice(vae.name, vae.shorthash) if vae else VaeChoice()

    def modules(self) -> list[str]:
        """Forge: the additional modules of the loaded model, by file stem ("ae", "clip_l")."""
        if not self.flavor.is_forge:
            return []
        paths = self.options.get("forge_additional_modules") or []
        return [path.rsplit("/", 1)[-1].rsplit(".", 1)[0] for path in paths]

    def weights_out_of_date(self) -> bool:
        return (
            self.wanted_checkpoint() is not self.loaded_checkpoint
            or self.wanted_vae() != self.loaded_vae
        )

    def store_options(self, changes: dict[str, Any]) -> None:
        """Set options as the server stores them. Forge keeps its module list as full paths and
        takes bare file names too, dropping names it has no file for
        (`modules_forge/main_entry.py`, `modules_change`)."""
        changes = dict(changes)
        if self.flavor.is_forge and isinstance(changes.get("forge_additional_modules"), list):
            by_name = {path.rsplit("/", 1)[-1]: path for path in self.catalog.modules}
            names = [
                str(value).replace("\\", "/").rsplit("/", 1)[-1]
                for value in changes["forge_additional_modules"]
            ]
            changes["forge_additional_modules"] = [by_name[n] for n in names if n in by_name]
        self.options.update(changes)

    def checkpoint_missing(self) -> bool:
        """SD.Next: the settings name no checkpoint, so none is loaded and jobs make nothing
        (modules/sd_models.py `reload_model_weights` unloads when `select_checkpoint` fails)."""
        named = self.catalog.find_checkpoint(self.options.get("sd_model_checkpoint"))
        return self.flavor.is_sdnext and named is None

    # -- loading (call with the queue lock held) ----------------------------------------------

    async def load_wanted_weights(self) -> None:
        """Bring the loaded checkpoint and VAE in line with the options; slow when they differ."""
        checkpoint = self.wanted_checkpoint()
        if checkpoint is not self.loaded_checkpoint or not self.weights_on_device:
            self.checkpoint_loads += 1
            await self.engine.spend(MODEL_LOAD_SECONDS[checkpoint.architecture] * self.load_scale)
            if checkpoint.relative_path in self.unloadable:
                raise self._load_failure()
            self.weights_on_device = True
            self.loaded_checkpoint = checkpoint
            self.loaded_vae = VaeChoice()  # a fresh model comes with its own VAE
        if checkpoint.sha256 is None:
            # A1111 hashes a checkpoint the first time it loads it; its title changes then.
            checkpoint.sha256 = fake_sha256(checkpoint.relative_path)
        if not self.flavor.is_forge:
            # A1111's load_model stores the title; Forge's forge_model_reload leaves the name
            # as it was given (`modules/sd_models.py` in each).
            self.options["sd_model_checkpoint"] = checkpoint.title
        self.options["sd_checkpoint_hash"] = checkpoint.sha256
        await self.load_wanted_vae()

    async def load_wanted_vae(self) -> None:
        vae = self.wanted_vae()
        if vae != self.loaded_vae:
            await self.engine.spend(VAE_LOAD_SECONDS * self.load_scale)
            self.loaded_vae = vae

    def _load_failure(self) -> SimServerError:
        """What the loader raises for a file it cannot read. The options keep naming that file,
        so the next generation without a checkpoint of its own tries it again (A1111's
        reload_model_weights puts the previous model back meanwhile)."""
        if self.flavor.is_forge:
            # backend/loader.py, forge_loader: any failure to split the state dict.
            return SimServerError("ValueError", "Failed to recognize model type!")
        return SimServerError("SafetensorError", "Error while deserializing header: HeaderTooLarge")

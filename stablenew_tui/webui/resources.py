"""The resource catalog: everything a user can pick from, for one node.

Fetched from the API (all lists at once), cached until refreshed. When the API cannot be
reached and the config names the WebUI's folder, the same lists come from scanning its model
folders, so a user can prepare a run while the server is still starting.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from stablenew_tui.webui.client import WebUIClient
from stablenew_tui.webui.errors import Trouble, WebUIError, trouble_of
from stablenew_tui.webui.models import ScriptLists, SDModel, ServerInfo
from stablenew_tui.webui.requests import VAE_AUTOMATIC, VAE_NONE

CatalogSource = Literal["api", "filesystem"]

# What the WebUI offers when its API cannot tell us: its built-in sampler list (v1.9+ names).
_BUILTIN_SAMPLERS = (
    "DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 2S a", "DPM++ 3M SDE",
    "Euler a", "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM fast", "DPM adaptive", "Restart",
    "DDIM", "DDIM CFG++", "PLMS", "UniPC", "LCM",
)  # fmt: skip
_BUILTIN_UPSCALERS = ("None", "Lanczos", "Nearest")
ADETAILER = "adetailer"  # the ADetailer extension, as the scripts list and its folder name it
MODEL_FILE_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf")


class ResourceCatalog(BaseModel):
    """Names exactly as the server spells them: what is shown is what is sent."""

    source: CatalogSource = "api"
    server: ServerInfo | None = None
    fetched_at: float = Field(default_factory=time.time)
    models: list[str] = Field(default_factory=list)
    model_details: list[SDModel] = Field(default_factory=list)
    vaes: list[str] = Field(default_factory=list)
    samplers: list[str] = Field(default_factory=list)
    schedulers: list[str] = Field(default_factory=list)
    schedulers_supported: bool = True
    upscalers: list[str] = Field(default_factory=list)
    latent_upscale_modes: list[str] = Field(default_factory=list)
    embeddings: list[str] = Field(default_factory=list)
    hypernetworks: list[str] = Field(default_factory=list)
    loras: list[str] = Field(default_factory=list)
    # What later stages may use only where the server has it (styles, ADetailer, ControlNet).
    prompt_styles: list[str] = Field(default_factory=list)
    face_restorers: list[str] = Field(default_factory=list)
    scripts: ScriptLists = Field(default_factory=ScriptLists)
    adetailer_models: list[str] = Field(default_factory=list)

    def checkpoint(self, name: str) -> SDModel | None:
        """The checkpoint `name` names, by title, file name, model name or hash, as the WebUI
        accepts them."""
        return next((model for model in self.model_details if model.matches(name)), None)

    def sections(self) -> dict[str, list[str]]:
        """Every pickable list by a human name, in the order they are shown."""
        return {
            "models": self.models,
            "vaes": self.vaes,
            "samplers": self.samplers,
            "schedulers": self.schedulers,
            "upscalers": self.upscalers,
            "latent upscale modes": self.latent_upscale_modes,
            "embeddings": self.embeddings,
            "hypernetworks": self.hypernetworks,
            "loras": self.loras,
            "prompt styles": self.prompt_styles,
            "face restorers": self.face_restorers,
            "txt2img scripts": self.scripts.txt2img,
            "img2img scripts": self.scripts.img2img,
            "adetailer models": self.adetailer_models,
        }


async def fetch_catalog(client: WebUIClient) -> ResourceCatalog:
    server = await client.server_info(refresh=True)
    # All at once; gathered in groups of at most six, which asyncio.gather keeps the types of.
    (
        (models, vaes, samplers, schedulers, upscalers),
        (latent, embeddings, hypernets, loras),
        (styles, restorers, scripts),
    ) = await asyncio.gather(
        asyncio.gather(client.sd_models(), client.sd_vae(), client.samplers(),
                       client.schedulers(), client.upscalers()),
        asyncio.gather(client.latent_upscale_modes(), client.embeddings(),
                       client.hypernetworks(), client.loras()),
        asyncio.gather(client.prompt_styles(), client.face_restorers(), client.scripts()),
    )  # fmt: skip
    # The extension's own route, asked only where the scripts list shows it installed.
    has_adetailer = ADETAILER in scripts.img2img
    adetailer_models = await client.adetailer_models() if has_adetailer else []
    return ResourceCatalog(
        source="api",
        server=server,
        models=[model.title for model in models],
        model_details=models,
        vaes=[VAE_AUTOMATIC, VAE_NONE, *(vae.model_name for vae in vaes)],
        samplers=[sampler.name for sampler in samplers],
        schedulers=[scheduler.name for scheduler in schedulers],
        schedulers_supported=server.supports_scheduler,
        upscalers=[upscaler.name for upscaler in upscalers],
        latent_upscale_modes=[mode.name for mode in latent],
        embeddings=sorted(embeddings.loaded),
        hypernetworks=[hypernetwork.name for hypernetwork in hypernets],
        loras=[lora.name for lora in loras],
        prompt_styles=[style.name for style in styles],
        face_restorers=[restorer.name for restorer in restorers],
        scripts=scripts,
        adetailer_models=adetailer_models,
    )


def scan_webui_folders(webui_root: Path) -> ResourceCatalog:
    """The lists a WebUI would offer, read from its folders (names as the WebUI forms them)."""
    models_dir = webui_root / "models"
    models = [f"{relative}" for relative in _model_files(models_dir / "Stable-diffusion")]
    upscalers = [
        *_BUILTIN_UPSCALERS,
        *(Path(name).stem for name in _model_files(models_dir / "ESRGAN")),
        *(Path(name).stem for name in _model_files(models_dir / "RealESRGAN")),
    ]
    return ResourceCatalog(
        source="filesystem",
        models=models,
        vaes=[VAE_AUTOMATIC, VAE_NONE, *(Path(n).name for n in _model_files(models_dir / "VAE"))],
        samplers=list(_BUILTIN_SAMPLERS),
        schedulers=[],
        schedulers_supported=False,
        upscalers=upscalers,
        embeddings=[Path(name).stem for name in _model_files(webui_root / "embeddings")],
        hypernetworks=[Path(name).stem for name in _model_files(models_dir / "hypernetworks")],
        loras=[Path(name).stem for name in _model_files(models_dir / "Lora")],
        scripts=_installed_scripts(webui_root / "extensions"),
    )


def _installed_scripts(extensions: Path) -> ScriptLists:
    """The scripts a WebUI will list that we use, from its extension folders."""
    if not extensions.is_dir():
        return ScriptLists()
    names = {entry.name.lower() for entry in extensions.iterdir() if entry.is_dir()}
    found = [ADETAILER] if ADETAILER in names else []
    return ScriptLists(txt2img=found, img2img=found)


def _model_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    found = [
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in MODEL_FILE_SUFFIXES
    ]
    return sorted(found, key=str.lower)


class CatalogCache:
    """The catalog of one node, fetched once and again only when asked to refresh."""

    def __init__(self, client: WebUIClient, webui_root: Path | None = None) -> None:
        self.client = client
        self.webui_root = webui_root
        self._catalog: ResourceCatalog | None = None
        self._lock = asyncio.Lock()

    @property
    def cached(self) -> ResourceCatalog | None:
        return self._catalog

    async def get(self, *, refresh: bool = False) -> ResourceCatalog:
        async with self._lock:
            if self._catalog is None or refresh or self._catalog.source == "filesystem":
                self._catalog = await self._load()
            return self._catalog

    async def _load(self) -> ResourceCatalog:
        try:
            return await fetch_catalog(self.client)
        except WebUIError as error:
            if self.webui_root is None or trouble_of(error) is not Trouble.TRANSIENT:
                raise
            return scan_webui_folders(self.webui_root)

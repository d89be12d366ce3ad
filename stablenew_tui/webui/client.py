"""One async client per WebUI node: discovery, options, generation, progress, control.

Generation-type calls (txt2img, img2img, extras, option changes, refreshes) go through one
lock, because the WebUI serializes them anyway and a second request would only wait with a
connection open. Progress, interrupt and skip bypass the lock so they work during a job.
"""

from __future__ import annotations

import asyncio
from typing import Any

from stablenew_tui.config import ClientConfig, NodeConfig
from stablenew_tui.webui.errors import (
    ModelSwitchFailed,
    WebUIBadAnswer,
    WebUIRejected,
    WebUIUnavailable,
)
from stablenew_tui.webui.models import (
    VAE,
    Embeddings,
    ExtrasResult,
    Flavor,
    GenerationResult,
    Hypernetwork,
    LatentUpscaleMode,
    Lora,
    PngInfo,
    Progress,
    Sampler,
    Scheduler,
    SDModel,
    ServerInfo,
    Upscaler,
)
from stablenew_tui.webui.requests import (
    ExtrasBatchRequest,
    ExtrasRequest,
    Img2ImgRequest,
    Txt2ImgRequest,
    payload_for,
)
from stablenew_tui.webui.transport import NodeTransport

API = "/sdapi/v1"
# How the WebUI spells "let the checkpoint decide" and "no VAE".
VAE_AUTOMATIC = "Automatic"
VAE_NONE = "None"


class WebUIClient:
    def __init__(
        self,
        node: NodeConfig,
        settings: ClientConfig | None = None,
        *,
        retry_base_delay: float = 0.25,
    ) -> None:
        self._transport = NodeTransport(node, settings, retry_base_delay=retry_base_delay)
        self._serial = asyncio.Lock()
        self._server: ServerInfo | None = None

    @property
    def node(self) -> NodeConfig:
        return self._transport.node

    @property
    def settings(self) -> ClientConfig:
        return self._transport.settings

    def __repr__(self) -> str:
        return f"WebUIClient({self.node.name!r}, {self.node.url!r})"

    async def __aenter__(self) -> WebUIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- what server is this -------------------------------------------------------------

    async def server_info(self, *, refresh: bool = False) -> ServerInfo:
        if self._server is None or refresh:
            self._server = await self._probe()
        return self._server

    async def _probe(self) -> ServerInfo:
        probe = self._transport.status_of
        modules, sdnext, schedulers, sysinfo = await asyncio.gather(
            probe(f"{API}/sd-modules"),
            probe(f"{API}/version"),
            probe(f"{API}/schedulers"),
            probe("/internal/sysinfo"),
        )
        if 401 in (modules[0], schedulers[0]):
            # Raise the same Unauthorized a normal call would, with its message.
            await self._transport.get(f"{API}/sd-models")
        flavor: Flavor
        if modules[0] == 200:
            flavor = "forge"
        elif sdnext[0] == 200:
            flavor = "sdnext"
        elif schedulers[0] in (200, 404):
            flavor = "a1111"
        else:
            raise WebUIBadAnswer(self.node.name, "does not look like a Stable Diffusion WebUI API")
        version = _version_from(sdnext[1] if flavor == "sdnext" else sysinfo[1])
        return ServerInfo(flavor=flavor, version=version, supports_scheduler=schedulers[0] == 200)

    # -- resources -----------------------------------------------------------------------

    async def sd_models(self) -> list[SDModel]:
        return [SDModel.model_validate(item) for item in await self._list("sd-models")]

    async def sd_vae(self) -> list[VAE]:
        """VAEs; on Forge these are its `sd-modules` (VAEs and text encoders)."""
        server = await self.server_info()
        endpoint = "sd-modules" if server.flavor == "forge" else "sd-vae"
        return [VAE.model_validate(item) for item in await self._list(endpoint)]

    async def samplers(self) -> list[Sampler]:
        return [Sampler.model_validate(item) for item in await self._list("samplers")]

    async def schedulers(self) -> list[Scheduler]:
        """Empty on servers before 1.9.1, which have no separate scheduler."""
        if not (await self.server_info()).supports_scheduler:
            return []
        return [Scheduler.model_validate(item) for item in await self._list("schedulers")]

    async def upscalers(self) -> list[Upscaler]:
        return [Upscaler.model_validate(item) for item in await self._list("upscalers")]

    async def latent_upscale_modes(self) -> list[LatentUpscaleMode]:
        items = await self._list("latent-upscale-modes")
        return [LatentUpscaleMode.model_validate(item) for item in items]

    async def embeddings(self) -> Embeddings:
        data = await self._transport.get(f"{API}/embeddings")
        return Embeddings.model_validate(data if isinstance(data, dict) else {})

    async def hypernetworks(self) -> list[Hypernetwork]:
        return [Hypernetwork.model_validate(item) for item in await self._list("hypernetworks")]

    async def loras(self) -> list[Lora]:
        return [Lora.model_validate(item) for item in await self._list("loras")]

    async def refresh(self, what: str) -> None:
        """`what` is checkpoints, vae or loras; the WebUI rescans its folders."""
        async with self._serial:
            await self._transport.post(f"{API}/refresh-{what}", read_timeout=self._long)

    async def _list(self, endpoint: str) -> list[Any]:
        data = await self._transport.get(f"{API}/{endpoint}")
        if not isinstance(data, list):
            raise WebUIBadAnswer(self.node.name, f"{endpoint} did not answer with a list")
        return [item for item in data if isinstance(item, dict)]

    # -- options, model and VAE ----------------------------------------------------------

    async def get_options(self) -> dict[str, Any]:
        data = await self._transport.get(f"{API}/options")
        if not isinstance(data, dict):
            raise WebUIBadAnswer(self.node.name, "options did not answer with an object")
        return data

    async def set_options(self, options: dict[str, Any]) -> None:
        # A model change blocks until the model is loaded: allow it generation time.
        async with self._serial:
            await self._transport.post(f"{API}/options", options, read_timeout=self._long)

    async def current_model(self) -> str | None:
        return (await self.get_options()).get("sd_model_checkpoint")

    async def set_model(self, name: str) -> None:
        """Load the checkpoint `name` (title, model name or hash) unless already loaded, and
        read the options back: a switch that did not take is an error, not silence."""
        models = await self.sd_models()
        if not any(model.matches(name) for model in models):
            raise WebUIRejected(self.node.name, 404, f"no checkpoint named {name!r}", "options")
        if _is_model(await self.current_model(), name, models):
            return
        await self.set_options({"sd_model_checkpoint": name})
        loaded = await self.current_model()
        if not _is_model(loaded, name, models):
            raise ModelSwitchFailed(
                self.node.name, f"asked for model {name!r}, {loaded!r} is loaded"
            )

    async def set_vae(self, name: str) -> None:
        """Select a VAE (`Automatic`, `None` or a VAE name) and verify it took."""
        server = await self.server_info()
        if server.flavor == "forge":
            await self._set_forge_vae(name)
            return
        if (await self.get_options()).get("sd_vae") == name:
            return
        await self.set_options({"sd_vae": name})
        loaded = (await self.get_options()).get("sd_vae")
        if loaded != name:
            raise ModelSwitchFailed(self.node.name, f"asked for VAE {name!r}, {loaded!r} is active")

    async def _set_forge_vae(self, name: str) -> None:
        # Forge picks VAEs and text encoders as a list of module files, not by `sd_vae`.
        wanted: list[str] = []
        if name not in (VAE_AUTOMATIC, VAE_NONE):
            modules = await self.sd_vae()
            match = next((module for module in modules if module.model_name == name), None)
            if match is None:
                raise WebUIRejected(self.node.name, 404, f"no VAE named {name!r}", "options")
            wanted = [match.filename or match.model_name]
        if (await self.get_options()).get("forge_additional_modules") == wanted:
            return
        await self.set_options({"forge_additional_modules": wanted})
        loaded = (await self.get_options()).get("forge_additional_modules")
        if loaded != wanted:
            raise ModelSwitchFailed(
                self.node.name, f"asked for VAE {name!r}, Forge kept {loaded!r}"
            )

    # -- generation ----------------------------------------------------------------------

    async def txt2img(self, request: Txt2ImgRequest) -> GenerationResult:
        return await self._generate("txt2img", request)

    async def img2img(self, request: Img2ImgRequest) -> GenerationResult:
        return await self._generate("img2img", request)

    async def payload(self, request: Txt2ImgRequest | Img2ImgRequest | ExtrasRequest) -> dict:
        """The exact body that would be sent to this node."""
        return payload_for(request, await self.server_info())

    async def _generate(
        self, endpoint: str, request: Txt2ImgRequest | Img2ImgRequest
    ) -> GenerationResult:
        return GenerationResult.from_answer(await self._post_image_request(endpoint, request))

    async def _post_image_request(self, endpoint: str, request: Any) -> dict[str, Any]:
        """One generation-type POST, serialized per node; the answer must hold an image."""
        body = await self.payload(request)
        async with self._serial:
            data = await self._transport.post(f"{API}/{endpoint}", body, read_timeout=self._long)
        if not isinstance(data, dict):
            raise WebUIBadAnswer(self.node.name, f"{endpoint} did not answer with an object")
        if not any(data.get("images") or [data.get("image")]):
            raise WebUIBadAnswer(self.node.name, f"{endpoint} answered without an image")
        return data

    async def extra_single_image(self, request: ExtrasRequest) -> ExtrasResult:
        return await self._extras("extra-single-image", request)

    async def extra_batch_images(self, request: ExtrasBatchRequest) -> ExtrasResult:
        return await self._extras("extra-batch-images", request)

    async def _extras(self, endpoint: str, request: ExtrasRequest) -> ExtrasResult:
        return ExtrasResult.from_answer(await self._post_image_request(endpoint, request))

    async def png_info(self, image_base64: str) -> PngInfo:
        data = await self._transport.post(f"{API}/png-info", {"image": image_base64})
        return PngInfo.model_validate(data if isinstance(data, dict) else {})

    # -- progress and control (never behind the lock) ------------------------------------

    async def progress(self, *, with_preview: bool = False) -> Progress:
        params = {"skip_current_image": "false" if with_preview else "true"}
        data = await self._transport.get(f"{API}/progress", params=params)
        return Progress.model_validate(data if isinstance(data, dict) else {})

    async def interrupt(self) -> None:
        await self._transport.post(f"{API}/interrupt")

    async def skip(self) -> None:
        await self._transport.post(f"{API}/skip")

    async def memory(self) -> dict[str, Any]:
        data = await self._transport.get(f"{API}/memory")
        return data if isinstance(data, dict) else {}

    async def reachable(self) -> bool:
        try:
            await self.server_info(refresh=True)
        except WebUIUnavailable:
            return False
        return True

    @property
    def _long(self) -> float:
        return self.settings.read_timeout


def _is_model(loaded: str | None, wanted: str, models: list[SDModel]) -> bool:
    if loaded is None:
        return False
    if loaded == wanted:
        return True
    return any(model.matches(wanted) and model.matches(loaded) for model in models)


def _version_from(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    for key in ("Version", "version", "updated"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None

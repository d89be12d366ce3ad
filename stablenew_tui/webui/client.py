"""One async client per WebUI node: discovery, options, generation, progress, control.

Generation-type calls (txt2img, img2img, extras, option changes, refreshes) go through one
lock, because the WebUI serializes them anyway and a second request would only wait with a
connection open. Progress, interrupt and skip bypass the lock so they work during a job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from stablenew_tui.config import ClientConfig, NodeConfig
from stablenew_tui.webui.errors import (
    ModelLoadFailed,
    Trouble,
    WebUIBadAnswer,
    WebUICutShort,
    WebUIError,
    WebUINoApi,
    WebUIOutOfMemory,
    WebUIRejected,
    invalid_answer,
    trouble_of,
)
from stablenew_tui.webui.models import (
    VAE,
    Embeddings,
    ExtrasResult,
    FaceRestorer,
    GenerationResult,
    Hypernetwork,
    LatentUpscaleMode,
    Lora,
    PngInfo,
    Progress,
    PromptStyle,
    Sampler,
    Scheduler,
    ScriptLists,
    SDModel,
    ServerInfo,
    Upscaler,
    out_of_memory_count,
)
from stablenew_tui.webui.requests import (
    ExtrasBatchRequest,
    ExtrasRequest,
    Img2ImgRequest,
    Txt2ImgRequest,
    payload_for,
)
from stablenew_tui.webui.server_probe import probe_server
from stablenew_tui.webui.transport import API, NodeTransport

DROPPED_REQUEST_TELL_SECONDS = 2.0  # for a node to hear "interrupt" once we stopped waiting
_Model = TypeVar("_Model", bound=BaseModel)
_Parsed = TypeVar("_Parsed")


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
        self._out_of_memory_count: int | None = None  # the GPU's count when last looked at
        self._told_to_stop = False  # the image request under way was interrupted or skipped

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
            self._server, self._out_of_memory_count = await probe_server(self._transport)
        return self._server

    # -- resources -----------------------------------------------------------------------

    async def sd_models(self) -> list[SDModel]:
        return await self._list(SDModel, "sd-models")

    async def sd_vae(self) -> list[VAE]:
        """VAEs; on Forge these are its `sd-modules` (VAEs and text encoders)."""
        server = await self.server_info()
        return await self._list(VAE, "sd-modules" if server.flavor == "forge" else "sd-vae")

    async def samplers(self) -> list[Sampler]:
        return await self._list(Sampler, "samplers")

    async def schedulers(self) -> list[Scheduler]:
        """Empty where the schedule is no separate choice: A1111 before 1.9.1, SD.Next."""
        if not (await self.server_info()).supports_scheduler:
            return []
        return await self._list(Scheduler, "schedulers")

    async def upscalers(self) -> list[Upscaler]:
        return await self._list(Upscaler, "upscalers")

    # The lists below are missing on some flavors or setups (SD.Next has no hypernetworks
    # nor latent-upscale-modes; a disabled extension takes its route along): none there.

    async def latent_upscale_modes(self) -> list[LatentUpscaleMode]:
        return await self._list(LatentUpscaleMode, "latent-upscale-modes", optional=True)

    async def embeddings(self) -> Embeddings:
        data = await self._get(f"{API}/embeddings", optional=True)
        return self._parse(Embeddings.model_validate, data or {}, "embeddings")

    async def hypernetworks(self) -> list[Hypernetwork]:
        return await self._list(Hypernetwork, "hypernetworks", optional=True)

    async def loras(self) -> list[Lora]:
        return await self._list(Lora, "loras", optional=True)

    async def prompt_styles(self) -> list[PromptStyle]:
        return await self._list(PromptStyle, "prompt-styles", optional=True)

    async def face_restorers(self) -> list[FaceRestorer]:
        return await self._list(FaceRestorer, "face-restorers", optional=True)

    async def scripts(self) -> ScriptLists:
        """Scripts and extensions installed per tab: what alwayson_scripts may name."""
        data = await self._get(f"{API}/scripts", optional=True)
        return self._parse(ScriptLists.model_validate, data or {}, "scripts")

    async def adetailer_models(self) -> list[str]:
        """The detection models of the ADetailer extension, from the route it adds to the
        server (`scripts/!adetailer.py`, `add_api_endpoints`); none without it."""
        data = await self._get("/adetailer/v1/ad_model", optional=True)
        models = data.get("ad_model") if isinstance(data, dict) else None
        if data is not None and not (
            isinstance(models, list) and all(isinstance(name, str) for name in models)
        ):
            raise WebUIBadAnswer(self.node.name, "adetailer/v1/ad_model did not list names")
        return list(models or [])

    async def refresh(self, what: str) -> None:
        """`what` is checkpoints, vae or loras; the WebUI rescans its folders."""
        async with self._serial:
            await self._transport.post(f"{API}/refresh-{what}", read_timeout=self._long)

    async def _list(
        self, model: type[_Model], endpoint: str, *, optional: bool = False
    ) -> list[_Model]:
        data = await self._get(f"{API}/{endpoint}", optional=optional)
        if data is None and optional:
            return []
        if not isinstance(data, list):
            raise WebUIBadAnswer(self.node.name, f"{endpoint} did not answer with a list")
        parse = model.model_validate
        return [self._parse(parse, item, endpoint, at=(index,)) for index, item in enumerate(data)]

    async def _get(self, path: str, *, optional: bool = False) -> Any:
        """A GET; with `optional`, a route this server lacks (404) answers None."""
        try:
            return await self._transport.get(path)
        except WebUIRejected as error:
            if error.status != 404:
                raise
            if optional:
                return None
            await self.server_info(refresh=True)  # says so if the server has no API at all
            raise

    def _parse(
        self,
        parse: Callable[[Any], _Parsed],
        data: Any,
        endpoint: str,
        *,
        at: tuple[int, ...] = (),
    ) -> _Parsed:
        """An answer (or item `at` of a list answer) parsed, or one WebUIBadAnswer naming the
        endpoint and the field: never a pydantic traceback."""
        try:
            return parse(data)
        except ValidationError as error:
            raise invalid_answer(self.node.name, endpoint, error, at=at) from None

    # -- options -------------------------------------------------------------------------

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
        try:
            data = await self._post_image_request(endpoint, request)
        except WebUIRejected as error:
            checkpoint = (request.override_settings or {}).get("sd_model_checkpoint")
            # A WebUI's own 500 (not out of memory, not a proxy's 502) may be a failed load.
            if checkpoint and error.status >= 500 and trouble_of(error) is Trouble.REQUEST:
                await self._raise_if_not_loaded(checkpoint, error)
            raise
        result = self._parse(GenerationResult.from_answer, data, endpoint)
        if not self._told_to_stop:
            await self._raise_if_cut_short(endpoint, result)
        return result

    async def _raise_if_cut_short(self, endpoint: str, result: GenerationResult) -> None:
        """A WebUI answers an image that someone else interrupted or skipped with 200 and the
        image as far as it got. Its state says so until its next job begins (`State.begin`,
        modules/shared_state.py, in A1111, Forge and SD.Next): read at once, and taken as this
        answer's when it names the same job (`job_timestamp`). A node that cannot say is going
        down, and its image is not taken on trust either."""
        try:
            state = (await self.progress()).state
        except WebUIError as error:
            raise WebUICutShort(
                self.node.name, f"{endpoint}: the node went away as it answered ({error.message})"
            ) from error
        answered = str(result.raw_info.get("job_timestamp") or "")
        same_job = not (answered and state.job_timestamp) or answered == state.job_timestamp
        if same_job and (state.interrupted or state.skipped):
            stopped = "interrupted" if state.interrupted else "skipped"
            raise WebUICutShort(
                self.node.name, f"{endpoint} was {stopped} part-way on the node by another client"
            )

    async def _raise_if_not_loaded(self, checkpoint: str, error: WebUIRejected) -> None:
        """A checkpoint named in a request loads inside the generation (Forge also loads one
        chosen through the options only then), so a load failure comes back as the
        generation's error. The loader records the sha256 of what it loaded in the
        `sd_checkpoint_hash` option (`modules/sd_models.py` in A1111 and Forge): when that is
        not the checkpoint asked for, the failure was the load."""
        try:
            loaded = (await self.get_options()).get("sd_checkpoint_hash")
            models = await self.sd_models() if loaded else []
        except WebUIError:
            return  # the original error says more than a failed look
        if not loaded:
            return  # this server does not say what it loaded
        asked = next((model for model in models if model.matches(checkpoint)), None)
        if asked is None or (asked.sha256 or "").lower() != str(loaded).lower():
            raise ModelLoadFailed(
                self.node.name, f"could not load model {checkpoint!r}: {error.reason}"
            ) from error

    async def _post_image_request(self, endpoint: str, request: Any) -> dict[str, Any]:
        """One generation-type POST, serialized per node; the answer must hold an image."""
        body = await self.payload(request)
        async with self._serial:
            self._told_to_stop = False
            try:
                data = await self._transport.post(
                    f"{API}/{endpoint}", body, read_timeout=self._long
                )
            except asyncio.CancelledError:
                if not self._told_to_stop:
                    await self._interrupt_dropped()
                raise
        if not isinstance(data, dict):
            raise WebUIBadAnswer(self.node.name, f"{endpoint} did not answer with an object")
        if not any(data.get("images") or [data.get("image")]):
            raise await self._no_image_error(endpoint)
        return data

    async def _interrupt_dropped(self) -> None:
        """A WebUI goes on with an image whose request was dropped without a word (the app
        ended mid-image): tell it to stop, so its GPU is free for what comes next. Before the
        request's turn on the node ends, so the word cannot reach the node's next image;
        briefly: a node that does not answer is left to itself."""
        with contextlib.suppress(WebUIError, TimeoutError):
            await asyncio.wait_for(self.interrupt(), DROPPED_REQUEST_TELL_SECONDS)

    async def _no_image_error(self, endpoint: str) -> WebUIError:
        """SD.Next answers a failed generation, out of memory included, with 200 and no
        images; the reason goes only to its log (`modules/api/generate.py` post_text2img).
        The GPU's out-of-memory count (`memory` → cuda.events.oom) tells that case apart."""
        try:
            count = out_of_memory_count(await self.memory())
        except WebUIError:
            count = None
        before, self._out_of_memory_count = self._out_of_memory_count, count
        if count is not None and count > (before or 0):
            reason = "the GPU ran out of memory (the server answered without an image)"
            return WebUIOutOfMemory(self.node.name, 200, reason, endpoint)
        return WebUIBadAnswer(
            self.node.name, f"{endpoint} answered without an image (the server's log says why)"
        )

    async def extra_single_image(self, request: ExtrasRequest) -> ExtrasResult:
        return await self._extras("extra-single-image", request)

    async def extra_batch_images(self, request: ExtrasBatchRequest) -> ExtrasResult:
        return await self._extras("extra-batch-images", request)

    async def _extras(self, endpoint: str, request: ExtrasRequest) -> ExtrasResult:
        data = await self._post_image_request(endpoint, request)
        return self._parse(ExtrasResult.from_answer, data, endpoint)

    async def png_info(self, image_base64: str) -> PngInfo:
        data = await self._transport.post(f"{API}/png-info", {"image": image_base64})
        return self._parse(
            PngInfo.model_validate, data if isinstance(data, dict) else {}, "png-info"
        )

    # -- progress and control (never behind the lock) ------------------------------------

    async def progress(self, *, with_preview: bool = False) -> Progress:
        params = {"skip_current_image": "false" if with_preview else "true"}
        data = await self._transport.get(f"{API}/progress", params=params)
        return self._parse(
            Progress.model_validate, data if isinstance(data, dict) else {}, "progress"
        )

    async def interrupt(self) -> None:
        self._told_to_stop = True
        await self._transport.post(f"{API}/interrupt")

    async def skip(self) -> None:
        self._told_to_stop = True
        await self._transport.post(f"{API}/skip")

    async def memory(self) -> dict[str, Any]:
        data = await self._transport.get(f"{API}/memory")
        return data if isinstance(data, dict) else {}

    async def reachable(self) -> bool:
        """Whether a WebUI API answers (a server restarting without --api does not, yet, nor
        one behind a proxy that answers 502 while it restarts). Raises the error of a server
        that answers but would take no job (credentials refused)."""
        try:
            await self.server_info(refresh=True)
        except WebUINoApi:
            return False
        except WebUIError as error:
            if trouble_of(error) is Trouble.TRANSIENT:
                return False
            raise
        return True

    @property
    def _long(self) -> float:
        return self.settings.read_timeout

"""The WebUI client against every simulator flavor, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import io

import pytest
from PIL import Image

from stablenew_tui.sim import SimServer
from stablenew_tui.webui.errors import WebUICutShort
from stablenew_tui.webui.requests import (
    ExtrasBatchRequest,
    ExtrasRequest,
    Img2ImgRequest,
    Txt2ImgRequest,
)
from stablenew_tui.webui.resources import fetch_catalog
from tests.integration.conftest import client_for

# Each flavor's out-of-the-box `samples_format`, as Pillow names the files it gives.
DEFAULT_FORMAT = {"a1111": "PNG", "a1111-1.8": "PNG", "forge": "PNG", "sdnext": "JPEG"}
EXPECTED_FLAVOR = {"a1111": "a1111", "a1111-1.8": "a1111", "forge": "forge", "sdnext": "sdnext"}


async def test_probe_tells_flavors_apart(any_sim):
    async with client_for(any_sim.url) as client:
        server = await client.server_info()
    assert server.flavor == EXPECTED_FLAVOR[any_sim.flavor]
    assert server.supports_scheduler == (any_sim.flavor in ("a1111", "forge"))
    assert server.version


async def test_catalog_lists_everything(any_sim):
    async with client_for(any_sim.url) as client:
        catalog = await fetch_catalog(client)
    for section in ("models", "vaes", "samplers", "upscalers", "loras", "embeddings"):
        assert getattr(catalog, section), f"{any_sim.flavor}: no {section}"
    assert catalog.hypernetworks is not None and catalog.latent_upscale_modes is not None
    if any_sim.flavor in ("a1111", "forge"):
        assert catalog.schedulers and catalog.schedulers_supported
    else:
        assert catalog.schedulers == [] and not catalog.schedulers_supported


async def test_txt2img_returns_an_image_in_the_default_format_and_info(any_sim):
    async with client_for(any_sim.url) as client:
        samplers = [sampler.name for sampler in await client.samplers()]
        request = Txt2ImgRequest(
            prompt="a lighthouse at dusk", seed=42, steps=4, width=256, height=192,
            sampler_name=samplers[0],
        )  # fmt: skip
        result = await client.txt2img(request)
    assert _format(result.images[0]) == DEFAULT_FORMAT[any_sim.flavor]
    assert result.info.seed == 42
    assert result.info.all_seeds == [42]
    assert result.info.infotexts and "a lighthouse at dusk" in result.info.infotexts[0]
    (sent,) = [r for r in any_sim.requests if r.path.endswith("/txt2img")]
    assert sent.body["sampler_name"] == samplers[0]
    assert sent.ignored_fields == []


def _interrupts(sim) -> int:
    return sum(1 for r in sim.requests if r.path.endswith("/interrupt"))


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def _generating(sim, client) -> asyncio.Task:
    """A txt2img the slow simulator is making (once the one before has stopped)."""
    await asyncio.wait_for(_until(lambda: not sim.webui.engine.busy), 10)
    request = Txt2ImgRequest(prompt="a slow lighthouse", steps=100, width=512, height=512)
    task = asyncio.create_task(client.txt2img(request))
    await _until(lambda: sim.webui.engine.busy)
    return task


async def test_an_image_request_dropped_without_a_word_is_interrupted_on_the_node():
    async with SimServer(speed=0.05) as slow, client_for(slow.url) as client:
        task = await _generating(slow, client)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert _interrupts(slow) == 1, "the node hears of it before the request's turn ends"

        task = await _generating(slow, client)  # once interrupted, only once
        await client.interrupt()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert _interrupts(slow) == 2


async def test_an_image_someone_else_stopped_part_way_is_not_taken_as_made():
    async with SimServer(speed=0.05) as slow, client_for(slow.url) as client:
        async with client_for(slow.url) as someone_else:
            task = await _generating(slow, client)
            await someone_else.interrupt()  # the WebUI's page, another program
            with pytest.raises(WebUICutShort, match="interrupted part-way"):
                await task

            task = await _generating(slow, client)
            await someone_else.skip()
            with pytest.raises(WebUICutShort, match="skipped part-way"):
                await task

        task = await _generating(slow, client)
        await client.interrupt()  # its own: what it answered is the caller's to judge
        result = await task
        assert result.images


async def test_img2img_and_extras_transform_the_image(sim):
    async with client_for(sim.url) as client:
        first = await client.txt2img(Txt2ImgRequest(prompt="a fox", seed=1, steps=2))
        image = first.images[0]
        second = await client.img2img(
            Img2ImgRequest(
                prompt="a fox", seed=1, steps=2, init_images=[image], width=320, height=256
            )
        )
        upscaled = await client.extra_single_image(
            ExtrasRequest(image=second.images[0], upscaler_1="Lanczos", upscaling_resize=2)
        )
        batch = await client.extra_batch_images(
            ExtrasBatchRequest(imageList=[{"data": image, "name": "a.png"}], upscaler_1="Lanczos")
        )
    assert _size(second.images[0]) == (320, 256)
    assert _size(upscaled.images[0]) == (640, 512)
    assert len(batch.images) == 1


async def test_progress_interrupt_skip_when_idle(any_sim):
    async with client_for(any_sim.url) as client:
        progress = await client.progress()
        assert progress.state.job_count == 0 and not progress.busy
        await client.interrupt()
        await client.skip()


async def test_png_info_reads_parameters(sim):
    async with client_for(sim.url) as client:
        result = await client.txt2img(Txt2ImgRequest(prompt="a red barn", seed=5, steps=2))
        info = await client.png_info(result.images[0])
    assert "a red barn" in info.info


def _size(image_b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(image_b64))) as image:
        return image.size


def _format(image_b64: str) -> str | None:
    with Image.open(io.BytesIO(base64.b64decode(image_b64))) as image:
        return image.format


async def test_img2img_extras_and_png_info_on_every_flavor(any_sim):
    async with client_for(any_sim.url) as client:
        first = await client.txt2img(Txt2ImgRequest(prompt="a fox", seed=1, steps=2))
        second = await client.img2img(
            Img2ImgRequest(prompt="a fox", seed=1, steps=2, init_images=[first.images[0]])
        )
        upscaled = await client.extra_single_image(
            ExtrasRequest(image=second.images[0], upscaler_1="Lanczos", upscaling_resize=2)
        )
        info = await client.png_info(first.images[0])
    width, height = _size(second.images[0])
    assert _size(upscaled.images[0]) == (width * 2, height * 2)
    assert "a fox" in info.info
    assert all(not r.ignored_fields for r in any_sim.requests)


async def test_filesystem_catalog_when_the_api_is_down(tmp_path):
    from stablenew_tui.webui.resources import CatalogCache

    root = tmp_path / "webui"
    for relative in (
        "models/Stable-diffusion/SDXL/juggernaut.safetensors",
        "models/Stable-diffusion/v1-5.ckpt",
        "models/VAE/sdxl_vae.safetensors",
        "models/Lora/film.safetensors",
        "models/ESRGAN/4x_foolhardy.pth",
        "embeddings/EasyNegative.pt",
        "models/Stable-diffusion/notes.txt",
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(b"")
    async with SimServer(speed=0) as sim:
        url = sim.url
    async with client_for(url, retries=0) as client:
        catalog = await CatalogCache(client, webui_root=root).get()
    assert catalog.source == "filesystem"
    assert catalog.models == ["SDXL/juggernaut.safetensors", "v1-5.ckpt"]
    assert "sdxl_vae.safetensors" in catalog.vaes and catalog.loras == ["film"]
    assert "4x_foolhardy" in catalog.upscalers and catalog.embeddings == ["EasyNegative"]
    assert catalog.samplers and not catalog.schedulers_supported

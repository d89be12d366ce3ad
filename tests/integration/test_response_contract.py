"""Every answer the client reads, as each real server's code shapes it, parsed by the client.

The answers are recorded in tests/data/answers/<flavor>.json, each citing the file and function
that produces it; a stub serves them over loopback HTTP (tests/stub_webui.py).
"""

from __future__ import annotations

import pytest

from stablenew_tui.webui.errors import (
    WebUIBadAnswer,
    WebUINoApi,
    WebUIOutOfMemory,
    WebUIRejected,
)
from stablenew_tui.webui.models import ServerInfo
from stablenew_tui.webui.requests import (
    ExtrasBatchRequest,
    ExtrasRequest,
    Img2ImgRequest,
    Txt2ImgRequest,
)
from stablenew_tui.webui.resources import fetch_catalog
from tests.integration.conftest import client_for
from tests.stub_webui import FLAVORS, StubWebUI, recorded_answers

SERVERS = {  # flavor → what the probe must report: flavor, version, a separate scheduler
    "a1111-1.10": ServerInfo(flavor="a1111", version="v1.10.1", supports_scheduler=True),
    "a1111-1.8": ServerInfo(flavor="a1111", version="v1.8.0", supports_scheduler=False),
    "forge": ServerInfo(
        flavor="forge", version="f2.0.1v1.10.1-previous-669-gdfdcbab6", supports_scheduler=True
    ),
    "sdnext": ServerInfo(flavor="sdnext", version="2026-07-23", supports_scheduler=False),
}


@pytest.fixture(params=FLAVORS)
def stub(request):
    with StubWebUI(request.param) as server:
        yield server


def _body(stub: StubWebUI, route: str):
    return recorded_answers(stub.flavor)[route]["body"]


async def test_probe_tells_each_server_apart(stub):
    async with client_for(stub.url) as client:
        server = await client.server_info()
    assert server == SERVERS[stub.flavor]


async def test_catalog_holds_every_list_as_recorded(stub):
    async with client_for(stub.url) as client:
        catalog = await fetch_catalog(client)
    answers = recorded_answers(stub.flavor)

    def listed(route: str, key: str = "name") -> list[str]:
        return [item[key] for item in answers[route]["body"]] if route in answers else []

    vae_route = "GET /sdapi/v1/sd-modules" if stub.flavor == "forge" else "GET /sdapi/v1/sd-vae"
    assert catalog.models == listed("GET /sdapi/v1/sd-models", "title")
    assert catalog.vaes == ["Automatic", "None", *listed(vae_route, "model_name")]
    assert catalog.samplers == listed("GET /sdapi/v1/samplers")
    assert catalog.upscalers == listed("GET /sdapi/v1/upscalers")
    assert catalog.loras == listed("GET /sdapi/v1/loras")
    assert catalog.prompt_styles == listed("GET /sdapi/v1/prompt-styles")
    assert catalog.face_restorers == listed("GET /sdapi/v1/face-restorers")
    scripts = answers["GET /sdapi/v1/scripts"]["body"]
    assert catalog.scripts.txt2img == scripts["txt2img"]
    assert catalog.scripts.img2img == scripts["img2img"]
    embeddings = answers["GET /sdapi/v1/embeddings"]["body"]["loaded"]
    assert catalog.embeddings == sorted(embeddings)  # names, from a mapping or a list
    # Routes a flavor lacks are empty lists, not failures (SD.Next: no hypernetworks, no
    # latent upscale modes; its `schedulers` are its samplers, not a separate choice).
    assert catalog.hypernetworks == listed("GET /sdapi/v1/hypernetworks")
    assert catalog.latent_upscale_modes == listed("GET /sdapi/v1/latent-upscale-modes")
    scheduler = SERVERS[stub.flavor].supports_scheduler
    assert catalog.schedulers_supported == scheduler
    assert catalog.schedulers == (listed("GET /sdapi/v1/schedulers") if scheduler else [])


async def test_generation_answers_parse_with_or_without_model_keys(stub):
    async with client_for(stub.url) as client:
        txt = await client.txt2img(Txt2ImgRequest(prompt="a fox", seed=7, width=64, height=64))
        img = await client.img2img(
            Img2ImgRequest(prompt="a fox", seed=7, init_images=txt.images, width=64, height=64)
        )
    for result in (txt, img):
        assert len(result.generated_images()) == 1
        assert (result.info.seed, result.info.width, result.info.height) == (7, 64, 64)
        assert result.info.infotexts
    if stub.flavor == "sdnext":
        # SD.Next's info has no model name, VAE name nor version (processing.py Processed.js)
        assert txt.info.sd_model_name is txt.info.sd_vae_name is txt.info.version is None
        assert txt.info.sd_model_hash == "c9e3e68f89"
    else:
        assert txt.info.sd_model_name == "v1-5-pruned-emaonly" and txt.info.version


async def test_extras_png_info_progress_memory_and_options(stub):
    async with client_for(stub.url) as client:
        single = await client.extra_single_image(ExtrasRequest(image="x", upscaler_1="Lanczos"))
        batch = await client.extra_batch_images(
            ExtrasBatchRequest(imageList=[{"data": "x", "name": "a.png"}], upscaler_1="Lanczos")
        )
        info = await client.png_info("x")
        idle = await client.progress()
        stub.use("GET /sdapi/v1/progress#running")
        running = await client.progress()
        memory = await client.memory()
        options = await client.get_options()
    assert single.images == [_body(stub, "POST /sdapi/v1/extra-single-image")["image"]]
    assert batch.images == _body(stub, "POST /sdapi/v1/extra-batch-images")["images"]
    assert "Seed: 1234" in info.info
    assert not idle.busy and running.busy and running.state.sampling_step == 7
    assert memory["cuda"]["events"]["oom"] == 0
    first_model = _body(stub, "GET /sdapi/v1/sd-models")[0]["title"]
    assert options["sd_model_checkpoint"] == first_model


async def test_control_and_refresh_answers_with_or_without_a_body(stub):
    """A1111/Forge answer {} or null; SD.Next 204 with no body; POST options is null on
    A1111/Forge and {"updated": [...]} on SD.Next."""
    async with client_for(stub.url) as client:
        await client.interrupt()
        await client.skip()
        for what in ("checkpoints", "vae", "loras"):
            await client.refresh(what)
        await client.set_options({"jpeg_quality": 85})
        assert (await client.get_options())["jpeg_quality"] == 85
    sent = [(request.method, request.path) for request in stub.requests]
    assert ("POST", "/sdapi/v1/skip") in sent and ("POST", "/sdapi/v1/refresh-loras") in sent


async def test_every_recorded_route_is_read_by_the_client(stub):
    """No recorded answer is dead data: the client reads each route the flavor serves."""
    async with client_for(stub.url) as client:
        await fetch_catalog(client)
        await client.txt2img(Txt2ImgRequest(prompt="x"))
        await client.img2img(Img2ImgRequest(prompt="x", init_images=["x"]))
        await client.extra_single_image(ExtrasRequest(image="x"))
        await client.extra_batch_images(ExtrasBatchRequest(imageList=[{"data": "x", "name": "a"}]))
        await client.png_info("x")
        await client.progress()
        await client.get_options()
        await client.set_options({"jpeg_quality": 85})
        await client.interrupt()
        await client.skip()
        for what in ("checkpoints", "vae", "loras"):
            await client.refresh(what)
    read = {f"{request.method} {request.path}" for request in stub.requests}
    recorded = {route.split("#", 1)[0] for route in recorded_answers(stub.flavor)}
    assert recorded - read == set()


@pytest.mark.parametrize("flavor", ["sdnext"])
async def test_sdnext_out_of_memory_is_a_200_without_images(flavor):
    with StubWebUI(flavor) as stub:
        async with client_for(stub.url) as client:
            await client.server_info()  # counts the out-of-memory events so far: none
            stub.use("POST /sdapi/v1/txt2img#out-of-memory")
            stub.use("GET /sdapi/v1/memory#after-out-of-memory")
            with pytest.raises(WebUIOutOfMemory) as out_of_memory:
                await client.txt2img(Txt2ImgRequest(prompt="x"))
            assert str(out_of_memory.value) == (
                f"{client.node.name}: txt2img: the GPU ran out of memory "
                "(the server answered without an image)"
            )
            # The count did not move again: this empty answer is some other failure.
            with pytest.raises(WebUIBadAnswer, match="answered without an image") as failed:
                await client.txt2img(Txt2ImgRequest(prompt="x"))
    assert not isinstance(failed.value, WebUIOutOfMemory)


async def test_a1111_out_of_memory_is_a_500_naming_it():
    with StubWebUI("a1111-1.10") as stub:
        stub.use("POST /sdapi/v1/txt2img#out-of-memory")
        async with client_for(stub.url) as client:
            with pytest.raises(WebUIOutOfMemory, match="CUDA out of memory"):
                await client.txt2img(Txt2ImgRequest(prompt="x"))


async def test_a_webui_without_api_is_told_to_start_with_api():
    """Without --api, the Gradio app serves its pages but 404 on every /sdapi route."""
    with StubWebUI("a1111-1.10") as stub:
        for route in [route for route in stub.answers if "/sdapi/" in route]:
            stub.remove(route)
        async with client_for(stub.url) as client:
            with pytest.raises(WebUINoApi, match="start the WebUI with --api"):
                await client.sd_models()
            assert not await client.reachable()


_READERS = {  # how the client reads each route
    "POST /sdapi/v1/txt2img": lambda client: client.txt2img(Txt2ImgRequest(prompt="x")),
    "GET /sdapi/v1/progress": lambda client: client.progress(),
    "GET /sdapi/v1/sd-models": fetch_catalog,
    "GET /sdapi/v1/embeddings": fetch_catalog,
    "GET /sdapi/v1/scripts": fetch_catalog,
}


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (
            "POST /sdapi/v1/txt2img",
            {"images": [123], "info": "{}"},
            "txt2img: invalid answer at images[0]: input should be a valid string (got 123)",
        ),
        (
            "POST /sdapi/v1/txt2img",
            {"images": ["x"], "info": '{"seed": "abc"}'},
            "txt2img: invalid answer at info.seed: input should be a valid integer, "
            "unable to parse string as an integer (got 'abc')",
        ),
        (
            "GET /sdapi/v1/sd-models",
            [{"model_name": "x"}],
            "sd-models: invalid answer at [0].title: field required",
        ),
        (
            "GET /sdapi/v1/embeddings",
            {"loaded": [1, 2]},
            "embeddings: invalid answer at loaded[0]: input should be a valid string (got 1)",
        ),
        (
            "GET /sdapi/v1/scripts",
            {"txt2img": "adetailer"},
            "scripts: invalid answer at txt2img: input should be a valid list (got 'adetailer')",
        ),
        (
            "GET /sdapi/v1/progress",
            {"progress": None},
            "progress: invalid answer at progress: input should be a valid number (got None)",
        ),
    ],
)
async def test_an_invalid_answer_is_one_plain_line(route, body, message):
    with StubWebUI("a1111-1.10") as stub:
        stub.answer(route, status=200, body=body)
        async with client_for(stub.url) as client:
            with pytest.raises(WebUIBadAnswer) as caught:
                await _READERS[route](client)
    assert str(caught.value) == f"{client.node.name}: {message}"
    assert "pydantic" not in str(caught.value)


async def test_a_proxy_error_page_is_summarized_to_its_title():
    page = (
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    with StubWebUI("a1111-1.10") as stub:
        stub.answer("POST /sdapi/v1/txt2img", status=502, text=page, content_type="text/html")
        stub.answer("GET /sdapi/v1/options", status=200, text=page, content_type="text/html")
        async with client_for(stub.url) as client:
            with pytest.raises(WebUIRejected) as rejected:
                await client.txt2img(Txt2ImgRequest(prompt="x"))
            with pytest.raises(WebUIBadAnswer) as not_json:
                await client.get_options()
    assert rejected.value.reason == "502 Bad Gateway"
    assert str(rejected.value).endswith("txt2img rejected (502): 502 Bad Gateway")
    assert str(not_json.value).endswith("options answered with a web page ('502 Bad Gateway')")

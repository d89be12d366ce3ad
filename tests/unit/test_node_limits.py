"""Per-node limits and the health a run keeps of its nodes, without a server."""

from __future__ import annotations

import pytest

from stablenew_tui.config import NodeConfig, parse_config
from stablenew_tui.errors import InputError
from stablenew_tui.pipeline.health import NodeHealth
from stablenew_tui.pipeline.jobs import Job, PromptSpec, SourceImage
from stablenew_tui.pipeline.node_limits import model_allowed
from stablenew_tui.pipeline.settings import PipelineSettings


@pytest.mark.parametrize(
    ("patterns", "model", "allowed"),
    [
        (["sdxl*"], "sdxl_base.safetensors [31e35c80fc]", True),
        (["sdxl*"], "v1-5-pruned.safetensors", False),
        (["!sdxl*"], "SDXL/juggernaut.safetensors", False),  # its folder is part of its title
        (["*/juggernaut*"], "SDXL/juggernaut.safetensors", True),
        (["!*juggernaut*"], "SDXL/juggernaut.safetensors", False),
        (["sd*", "!*refiner*"], "sd_xl_refiner_1.0.safetensors", False),
        (["sd*", "!*refiner*"], "sd_xl_base_1.0.safetensors", True),
        (["DreamShaper_8"], "dreamshaper_8.safetensors [879db523c3]", True),  # its bare name
    ],
)
def test_model_patterns(patterns, model, allowed):
    assert model_allowed(patterns, model) is allowed


def test_node_limits_in_the_config_are_checked_where_written():
    limits = 'models = ["sdxl*", "!*refiner*"]\nmax_megapixels = 1.5\n'
    config = parse_config('[[nodes]]\nurl = "http://a:7860"\n' + limits, source="c.toml")
    assert config.nodes[0].models == ["sdxl*", "!*refiner*"]
    with pytest.raises(InputError) as empty:
        parse_config('[[nodes]]\nurl = "http://a:7860"\nmodels = ["!"]\n', source="c.toml")
    assert "models: a pattern is empty" in str(empty.value)
    with pytest.raises(InputError) as zero:
        parse_config('[[nodes]]\nurl = "http://a:7860"\nmax_megapixels = 0\n', source="c.toml")
    assert str(zero.value).startswith("c.toml:3: nodes.0.max_megapixels: ")


def job(index: int, side: int) -> Job:
    image = SourceImage(path=f"{index}.png", sha256="0" * 64, format="png", width=side, height=side)
    return Job(id=f"j{index}", run_id="r", index=index, prompt_index=0, seed=index,
               spec=PromptSpec(prompt="x", image=image))  # fmt: skip


def health_of(*names: str) -> NodeHealth:
    nodes = [NodeConfig(name=name, url=f"http://{name}:7860") for name in names]
    settings = PipelineSettings(stages=["img2img"])
    health = NodeHealth(nodes, settings, [job(0, 512), job(1, 1024), job(2, 256)])
    health.serving.update(names)
    return health


def test_out_of_memory_keeps_a_node_from_that_size_and_larger_while_another_may_make_them():
    health = health_of("a", "b")
    health.out_of_memory("a", "j0")
    assert health.passed_over("a") == {"j0", "j1"}, "the smaller job is still a's to make"
    assert health.passed_over("b") == set()
    health.out_of_memory("b", "j1")
    assert health.passed_over("a") == {"j0"}, "j1 is too large for both: a may try it again"
    assert health.passed_over("b") == set()


def test_the_breaker_opens_on_the_third_failure_in_a_row_and_waits_longer_each_time():
    health = health_of("a")
    assert not health.failed("a") and not health.failed("a")
    health.succeeded("a")
    assert not health.failed("a") and not health.failed("a")
    assert health.failed("a")
    first = health.breaker_delay("a")
    assert [health.failed("a") for _ in range(3)] == [False, False, True]
    assert health.breaker_delay("a") == 2 * first


def test_a_job_is_poisoned_by_failures_on_two_different_nodes():
    health = health_of("a", "b", "c")
    health.blame("j0", "a", "dropped")
    health.blame("j0", "a", "dropped again")
    assert health.poisoned("j0") is None
    assert health.passed_over("a") == {"j0"}, "others may try it first"
    health.blame("j0", "b", "stalled")
    assert (
        health.poisoned("j0") == "failed on 2 nodes, set aside: on a: dropped again; on b: stalled"
    )

from pathlib import Path

import pytest

from stablenew_tui.config import AppConfig, NodeConfig, load_config, parse_config
from stablenew_tui.errors import InputError
from stablenew_tui.paths import AppPaths
from stablenew_tui.pipeline.settings import layer_problem

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "config.toml"


def test_missing_default_config_means_defaults(stablenew_home):
    config = load_config()
    assert config == AppConfig()


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_example_config_documents_and_validates():
    config = load_config(EXAMPLE_CONFIG)
    assert config.nodes, "the example config should show at least one node"


def test_every_key_is_documented_in_the_example():
    text = EXAMPLE_CONFIG.read_text()
    sections = {
        "nodes": NodeConfig,
        "paths": AppConfig.model_fields["paths"].annotation,
        "client": AppConfig.model_fields["client"].annotation,
        "queue": AppConfig.model_fields["queue"].annotation,
        "prompts": AppConfig.model_fields["prompts"].annotation,
        "ui": AppConfig.model_fields["ui"].annotation,
    }
    for section, model in sections.items():
        for key in model.model_fields:
            documented = f"{key} =" in text or f"[{section}.{key}]" in text
            assert documented, f"{section}.{key} is not documented in examples/config.toml"


def test_unknown_key_names_file_key_and_line():
    text = '[ui]\ntheme = "x"\ncolour = "red"\n'
    with pytest.raises(InputError) as caught:
        parse_config(text, source="my.toml")
    assert str(caught.value) == "my.toml:3: ui.colour: unknown key"


def test_wrong_value_names_key():
    with pytest.raises(InputError) as caught:
        parse_config('[client]\nretries = "many"\n', source="c.toml")
    message = str(caught.value)
    assert message.startswith("c.toml:2: client.retries:")
    assert "integer" in message


def test_lease_is_one_second_at_least():
    assert AppConfig().queue.lease_seconds == 60.0
    assert parse_config("[queue]\nlease_seconds = 5\n", source="c.toml").queue.lease_seconds == 5
    with pytest.raises(InputError) as caught:
        parse_config("[client]\nretries = 1\n[queue]\nlease_seconds = 0.1\n", source="c.toml")
    assert str(caught.value).startswith("c.toml:4: queue.lease_seconds:")


def test_toml_syntax_error_has_line_and_column():
    with pytest.raises(InputError) as caught:
        parse_config("[ui\ntheme=1", source="c.toml")
    assert caught.value.line == 1
    assert caught.value.column is not None


def test_bad_node_url_is_rejected_without_leaking_password():
    with pytest.raises(InputError) as caught:
        parse_config('[[nodes]]\nurl = "ftp://me:hunter2@host"\n', source="c.toml")
    assert "hunter2" not in str(caught.value)
    assert "nodes" in str(caught.value)


def test_credentials_in_url_move_out_of_it_and_never_show():
    node = NodeConfig(url="http://me:hunter2@gpu-box:7860/")
    assert node.url == "http://gpu-box:7860"
    assert node.user == "me"
    assert node.basic_auth() == ("me", "hunter2")
    assert "hunter2" not in repr(node)
    assert "hunter2" not in str(node)
    assert "hunter2" not in node.model_dump_json()


def test_password_from_environment(monkeypatch):
    monkeypatch.setenv("SD_PASSWORD", "s3cret")
    node = NodeConfig(url="http://h:1", user="u", password_env="SD_PASSWORD")
    assert node.basic_auth() == ("u", "s3cret")


def test_stablenew_home_puts_everything_under_one_folder(tmp_path):
    paths = AppPaths.from_environment({"STABLENEW_HOME": str(tmp_path)})
    assert paths.config_file == tmp_path / "config.toml"
    for folder in (paths.data_dir, paths.default_output_root, paths.user_themes_dir):
        assert folder.is_relative_to(tmp_path)


def test_xdg_locations(tmp_path):
    env = {"HOME": "/home/u", "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": "/d"}
    paths = AppPaths.from_environment(env)
    assert paths.config_file == tmp_path / "c" / "stablenew" / "config.toml"
    assert paths.data_dir == Path("/d/stablenew")


DEEP = "[" * 6000 + "]" * 6000


def test_config_nested_thousands_of_levels_deep_is_one_error():
    with pytest.raises(InputError) as caught:
        parse_config(f"[stages.txt2img]\nsteps = {DEEP}\n", source="c.toml")
    assert str(caught.value) == "c.toml: nested too deeply"


@pytest.mark.parametrize("url", ["127.0.0.1:7860", "localhost:7860", "gpu-box"])
def test_node_url_without_scheme_says_what_to_write(url):
    with pytest.raises(ValueError, match=f"must start with http:// or https://, e.g. http://{url}"):
        NodeConfig(url=url)


@pytest.mark.parametrize("url", ["http://exa mple.com", "http://gpu box:7860", "http://a/b c"])
def test_a_node_url_that_is_no_address_is_refused_when_read(url):
    with pytest.raises(ValueError, match="is not a valid address"):
        NodeConfig(url=url)


@pytest.mark.parametrize(
    ("url", "kept"),
    [("http://[::1]:7860/", "http://[::1]:7860"), ("https://[fe80::1]", "https://[fe80::1]")],
)
def test_an_ipv6_node_url_keeps_its_brackets(url, kept):
    assert NodeConfig(url=url).url == kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[client]\nretries = 2\n\n[stages.txt2img]\nsampler = "Euler"\nsteps = "many"\n',
            "c.toml:6: stages.txt2img.steps: Input should be a valid integer",
        ),
        (
            "[stages.txt2img]\nsteps = 3\n[stages.img2img]\nsteps = 999\n",
            "c.toml:4: stages.img2img.steps: Input should be less than or equal to 150",
        ),
        (
            "[stages]\ntxt2img = { steps = 3, cfg_scale = nan }\n",
            "c.toml:2: stages.txt2img.cfg_scale: Input should be a finite number",
        ),
        ("\n[stages.upscale]\nwarp = 1\n", "c.toml:3: stages.upscale.warp: unknown key"),
        (
            '[[nodes]]\nurl = "http://a:1"\n[[nodes]]\nname = "b"\nurl = "b:2"\n',
            "c.toml:3: nodes.1: node URL must start with http:// or https://, e.g. http://b:2",
        ),
        (
            '[[nodes]]\nname = "gpu"\nurl = "https://gpu-box/sd/sdapi/v1/"\n',
            "c.toml:1: nodes.0: node URL ends in /sdapi/v1, a page of the WebUI's API, not its "
            "address: use https://gpu-box/sd",
        ),
        (
            "[client]\nread_timeout = inf\n",
            "c.toml:2: client.read_timeout: Input should be a finite",
        ),
        ("[ui]\n[overrides.txt2img]\nsteps = 3\n", "c.toml:2: overrides: unknown key"),
    ],
)
def test_value_errors_name_the_line_also_under_stages(text, expected):
    with pytest.raises(InputError) as caught:
        parse_config(text, source="c.toml", check_stages=layer_problem)
    assert str(caught.value).startswith(expected)


def test_settings_that_conflict_only_when_merged_wait_for_the_merge():
    config = parse_config(
        "[stages.upscale]\ntarget_width = 1024\n", source="c.toml", check_stages=layer_problem
    )
    assert config.stages.upscale == {"target_width": 1024}

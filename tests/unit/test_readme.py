"""The README's first commands are what a newcomer runs, and what CI runs."""

from tests.conftest import REPO_ROOT


def _readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_two_commands():
    install_and_start, install_and_test = _readme_commands()
    assert "stablenew" in install_and_start
    assert "pytest" in install_and_test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert _readme_commands()[1] in ci.splitlines()

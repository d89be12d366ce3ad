"""Theme files: the shipped ones load from the package; a broken one is a problem to report,
never a crash."""

from __future__ import annotations

from stablenew_tui.tui.themes import BUNDLED_THEMES, DEFAULT_THEME, load_themes


def test_the_shipped_themes_load_from_the_package():
    loaded = load_themes(BUNDLED_THEMES)
    assert BUNDLED_THEMES.parts[-3:] == ("stablenew_tui", "data", "themes")
    assert loaded.problems == []
    names = {theme.name for theme in loaded.themes}
    assert names == {DEFAULT_THEME, "stablenew-light", "stablenew-high-contrast"}


def test_a_theme_nested_thousands_of_levels_deep_is_reported_and_skipped(tmp_path):
    (tmp_path / "deep.toml").write_text("variables = " + "[" * 6000 + "]" * 6000 + "\n")
    (tmp_path / "ok.toml").write_text('name = "ok"\nprimary = "#336699"\n')
    loaded = load_themes(tmp_path)
    assert [theme.name for theme in loaded.themes] == ["ok"]
    (problem,) = loaded.problems
    assert problem.startswith(f"{tmp_path / 'deep.toml'}: not a readable theme file")

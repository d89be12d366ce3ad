"""Start-up loads the image widget's module in a thread while the app's modules load (its
import waits on the terminal's answers); it is loaded, or its error raised, when that ends."""

from __future__ import annotations

import sys
import threading

import pytest

from stablenew_tui.tui.main import imported_meanwhile


@pytest.fixture
def module_folder(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith("start_probe_")]:
        del sys.modules[name]


def test_the_module_is_loaded_in_another_thread_by_the_end_of_the_block(module_folder):
    (module_folder / "start_probe_ok.py").write_text(
        "import threading, time\ntime.sleep(0.2)\nLOADED_IN = threading.current_thread()\n"
    )
    with imported_meanwhile("start_probe_ok"):
        loaded_before_the_block = hasattr(sys.modules.get("start_probe_ok"), "LOADED_IN")
    assert not loaded_before_the_block  # the block ran while the module loaded
    assert sys.modules["start_probe_ok"].LOADED_IN is not threading.current_thread()


def test_an_error_in_the_import_is_raised_in_the_caller(module_folder):
    (module_folder / "start_probe_broken.py").write_text("raise RuntimeError('no terminal')\n")
    with pytest.raises(RuntimeError, match="no terminal"), imported_meanwhile("start_probe_broken"):
        pass

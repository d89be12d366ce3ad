import io

from stablenew_tui.commands.run_reporters import PlainReporter
from stablenew_tui.pipeline.events import JobDone, RunEstimate, RunStarted


def test_a_finished_image_line_gives_the_runs_eta_once_it_is_estimated():
    out = io.StringIO()
    reporter = PlainReporter(out)
    reporter.show(RunStarted("r", "/f", total=3, remaining=3))
    reporter.show(JobDone("j0", 0, "a", [], "p", 1))
    reporter.show(RunEstimate("r", 60.0))
    reporter.show(JobDone("j1", 1, "a", [], "p", 2))
    first, second = out.getvalue().splitlines()[1:]
    assert first.endswith("image 1 done (1/3)")
    assert second.endswith("image 2 done (2/3, ETA 1:00)")

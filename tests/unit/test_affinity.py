"""Affinity choices against a real queue file: which job a node takes, or whether it waits."""

from dataclasses import replace

from stablenew_tui.pipeline.affinity import View, choose
from stablenew_tui.pipeline.jobs import PromptSpec, plan_run
from stablenew_tui.pipeline.queue import JobQueue
from stablenew_tui.pipeline.settings import merge_settings

SETTINGS = merge_settings(("t", {"txt2img": {"seed": 1, "steps": 10, "width": 1000,
                                             "height": 1000}}))  # fmt: skip
WORK = 10.0  # megapixel·steps of one job


def queue_of(tmp_path, models):
    queue = JobQueue(tmp_path / "q.sqlite3")
    specs = [(n, PromptSpec(prompt="p", model=model)) for n, model in enumerate(models)]
    run, jobs = plan_run(specs, SETTINGS, base_seed=1, name="t", folder=str(tmp_path))
    queue.add_run(run, jobs)
    return queue, run, jobs


def view(node, holds, rates=None):
    return View(
        settings=SETTINGS, holds=holds, rates=rates or {}, default_rate=WORK, loads={},
        pass_limit=100, node=node,
    )  # fmt: skip


def take(queue, run, node, the_view):
    return queue.claim(run.id, node, choose=lambda glance: choose(the_view, glance)[0])


def test_a_node_takes_the_next_job_of_its_checkpoint(tmp_path):
    queue, run, jobs = queue_of(tmp_path, ["a", "b", "a", "b"])
    job = take(queue, run, "n1", view("n1", {"n0": "a", "n1": "b"}))
    assert job.id == jobs[1].id


def test_a_job_moved_to_the_front_is_taken_first(tmp_path):
    queue, run, jobs = queue_of(tmp_path, ["a", "b", "a", "b"])
    queue.move_to_front(jobs[2].id)
    job = take(queue, run, "n1", view("n1", {"n0": "a", "n1": "b"}))
    assert job.id == jobs[2].id, "the user's order wins over the loaded checkpoint"


def test_a_node_whose_checkpoint_ran_out_waits_while_another_ends_the_rest(tmp_path):
    """One image of b is left, on its own node; loading b elsewhere would end nothing sooner."""
    queue, run, jobs = queue_of(tmp_path, ["b"])
    assert take(queue, run, "n0", view("n0", {"n0": "a", "n1": "b"})) is None
    assert queue.counts(run.id) == {"queued": 1}
    # Alone (the other node left the run), it takes it.
    assert take(queue, run, "n0", view("n0", {"n0": "a"})).id == jobs[0].id


def test_a_node_never_waits_on_one_that_is_waiting_too(tmp_path):
    """Neither node holds b: the one asking takes it rather than count on the other."""
    queue, run, jobs = queue_of(tmp_path, ["b"])
    holds = {"n0": "a", "n1": "a"}
    assert take(queue, run, "n0", view("n0", holds)).id == jobs[0].id


def test_of_two_nodes_on_one_checkpoint_one_moves_to_the_other_now(tmp_path):
    """Staying, both nodes would load b once a runs out; one moving now ends as soon, with
    one load fewer."""
    queue, run, _ = queue_of(tmp_path, ["a"] * 8 + ["b"] * 8)
    job = take(queue, run, "n0", view("n0", {"n0": "a", "n1": "a"}))
    assert job.spec.model == "b"


def test_a_switch_that_ends_nothing_sooner_is_not_made(tmp_path):
    """The slow node holds b; the fast one's own a is still needed first: doing it now costs
    nothing, switching would cost a load back to a later."""
    queue, run, _ = queue_of(tmp_path, ["a", "b", "b", "b", "b", "b", "b"])
    rates = {"fast": 10 * WORK, "slow": WORK}
    job = take(queue, run, "fast", view("fast", {"fast": "a", "slow": "b"}, rates))
    assert job.spec.model == "a"


def test_a_node_takes_its_checkpoint_however_far_back_its_jobs_wait(tmp_path):
    """A grouped batch: the second checkpoint's jobs start 150 places back. A node holding
    it starts on them at once instead of loading the first checkpoint."""
    queue, run, jobs = queue_of(tmp_path, ["a"] * 150 + ["b"] * 150)
    job = take(queue, run, "n1", view("n1", {"n0": "a", "n1": "b"}))
    assert job.id == jobs[150].id


def test_the_head_of_the_queue_is_taken_once_passed_over_pass_limit_times(tmp_path):
    queue, run, jobs = queue_of(tmp_path, ["a"] * 150 + ["b"] * 150)
    holds = {"n0": "a", "n1": "b"}
    passed = replace(view("n1", holds), passed={jobs[0].id: 99})
    assert take(queue, run, "n1", passed).id == jobs[150].id
    limit = replace(view("n1", holds), passed={jobs[0].id: 100})
    assert take(queue, run, "n1", limit).id == jobs[0].id

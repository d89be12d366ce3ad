"""The main screen: prompt, stages, queue and results, with node status and progress always
in sight. It composes the widgets and maps keys and messages to calls on the services; what
those calls do lives there (`RunControl`, `ResultsFeed`), shared with the CLI."""

from __future__ import annotations

import asyncio
import gc
from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input
from textual.worker import Worker, WorkerState

from stablenew_tui.errors import StableNewError
from stablenew_tui.pipeline.events import (
    Event,
    JobDone,
    JobFailed,
    LocalFailure,
    NodeStatus,
    RunStarted,
)
from stablenew_tui.pipeline.jobs import Job, Run
from stablenew_tui.pipeline.launch import RunRequest
from stablenew_tui.prompts import Pack
from stablenew_tui.services.control import QueuedRun
from stablenew_tui.services.results import RECENT_RESULTS, ResultRow
from stablenew_tui.tui.image_actions import SEED_FIELD, ImageActions
from stablenew_tui.tui.keys import bindings_of
from stablenew_tui.tui.messages import EngineEvents, pump_events
from stablenew_tui.tui.screens.pack_browser import PackBrowser, PackChoice
from stablenew_tui.tui.screens.resume import UnfinishedRuns
from stablenew_tui.tui.services import TuiServices
from stablenew_tui.tui.widgets.insights import InsightsView, OptionTable
from stablenew_tui.tui.widgets.job_log import JobLog
from stablenew_tui.tui.widgets.key_hints import KeyHints, key_display
from stablenew_tui.tui.widgets.node_status import NodeStatusBar
from stablenew_tui.tui.widgets.prompt_editor import PromptEditor, SegmentTable
from stablenew_tui.tui.widgets.queue_view import QueueView
from stablenew_tui.tui.widgets.results import ResultsPane, ResultsTable
from stablenew_tui.tui.widgets.run_progress import RunProgress
from stablenew_tui.tui.widgets.stage_cards import StageCards
from stablenew_tui.tui.widgets.tab_bar import TabBar

TAB_NAMES = {
    "prompt": "Prompt", "stages": "Stages", "queue": "Queue", "results": "Results",
    "insights": "Insights",
}  # fmt: skip
VIEW_REFRESH_SECONDS = 0.25
# The views of each tab that keep changes waiting until the tab is in view.
WAITING_VIEWS: dict[str, tuple[type[QueueView | JobLog | ResultsTable], ...]] = {
    "queue": (QueueView, JobLog),
    "results": (ResultsTable,),
}
# Reports that change no job's status.
PROGRESS_KINDS = ("progress", "video_progress")


class MainScreen(Screen):
    # Not the template: there `?` and every letter key would be typed. `e` edits it.
    AUTO_FOCUS = "#segments"
    BINDINGS = [
        Binding("ctrl+r", "run_prompt", "Run", id="run", priority=True),
        Binding("ctrl+g", "run_pack", "Run pack", id="run_pack"),
        Binding("ctrl+o", "open_packs", "Packs", id="packs"),
        Binding("f2", "show_tab('prompt')", "Prompt", id="tab_prompt", show=False),
        Binding("f3", "show_tab('stages')", "Stages", id="tab_stages", show=False),
        Binding("f4", "show_tab('queue')", "Queue", id="tab_queue", show=False),
        Binding("f5", "show_tab('results')", "Results", id="tab_results", show=False),
        Binding("ctrl+n", "show_tab('insights')", "Insights", id="tab_insights", show=False),
        # Not F6/F7/Ctrl+X: the template editor uses those.
        Binding("ctrl+l", "refresh_resources", "Refresh resources", id="refresh", show=False),
        Binding("f8", "toggle_pause", "Pause", id="pause", show=False),
        Binding("f9", "skip", "Skip", id="skip", show=False),
        Binding("f10", "interrupt", "Interrupt", id="interrupt", show=False),
        Binding("f12", "cancel_all", "Cancel all", id="cancel_all", show=False),
        Binding("ctrl+t", "choose_run_to_resume", "Resume run…", id="resume_run", show=False),
        Binding("f1,question_mark", "app.help", "Help", id="help"),
    ]

    def __init__(self, services: TuiServices) -> None:
        super().__init__()
        self.services = services
        self.next_seed = services.new_seed()
        self.pack: Pack | None = None  # the pack last opened in the browser, for "run pack"
        self._shown_run: Run | None = None  # the run the queue view and new results belong to
        self._catalog_loaded = False
        self.image_actions = ImageActions(self)
        self.unfinished = UnfinishedRuns(self)

    def compose(self) -> ComposeResult:
        services = self.services
        yield NodeStatusBar(services.monitor.status, id="nodes")
        yield TabBar(self._tab_titles(), active="prompt", id="tab-bar")
        with ContentSwitcher(initial="prompt", id="tabs"):
            with Vertical(id="prompt"):
                yield PromptEditor(services.draft, services.config.ui.keymap, id="editor")
            with Vertical(id="stages"):
                yield StageCards(services.warm_settings(), id="cards")
            with Vertical(id="queue"):
                yield QueueView(self._jobs_of_shown_run, id="queue-view")
                yield JobLog(id="job-log")
            with Vertical(id="results"):
                yield ResultsPane(services.config.ui.image_preview, id="results-pane")
            with Vertical(id="insights"):
                yield InsightsView(services.ratings.rated, services.insights, id="insights-view")
        yield RunProgress(self._key_of("resume_run"), id="progress")
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self._show_key_hints("prompt")
        self._update_seed()
        for warning in self.services.warnings:
            self.notify(warning, severity="warning", timeout=10)
        self.run_worker(self.services.monitor.run(), name="monitor", group="services")
        self.run_worker(self.services.control.serve(), name="runs", group="services")
        events = pump_events(self.services.events, self.post_message)
        self.run_worker(events, name="events", group="services")
        self._load_results(RECENT_RESULTS)
        self.unfinished.list_at_start()
        self.set_interval(VIEW_REFRESH_SECONDS, self._refresh_views)
        # The widget tree lives as long as the app: keep it out of the collector's full scans,
        # which otherwise pause the UI for ~100 ms every few seconds of activity.
        self.call_after_refresh(gc.freeze)

    # -- engine events -------------------------------------------------------------------

    @on(EngineEvents)
    def _engine_events(self, message: EngineEvents) -> None:
        log = self.query_one(JobLog)
        for event in message.events:
            log.show(event)
            self._engine_event(event)
        self.query_one(RunProgress).show(message.events)
        self._show_holds()  # with the line it qualifies: no STOPPING beside "stopped"
        status = self.services.run_status
        status.update(message.events)
        self.query_one(RunProgress).show_run_status(status.summary())
        self.query_one(NodeStatusBar).show_activity(status.activity)
        if any(isinstance(event, JobDone | JobFailed) for event in message.events):
            # Their records are written: a finished image (or what a failed job made before
            # it failed) is a new result. One look per batch.
            self._load_results()

    def _engine_event(self, event: Event) -> None:
        match event:
            case NodeStatus():
                self.query_one(NodeStatusBar).update_status(event)
                if event.state in ("READY", "BUSY") and not self._catalog_loaded:
                    self._catalog_loaded = True
                    self.load_catalog()
            case RunStarted():
                self._shown_run = self.services.control.run_of(event.run_id)
                self.query_one(QueueView).mark_stale()
            case LocalFailure():  # the engine has paused the queue
                pause = next(b for b in bindings_of(MainScreen) if b.id == "pause")
                key = key_display(self.app, pause, self.services.config.ui.keymap)
                message = f"paused: {event.problem}; {event.fix}, then resume with {key}"
                self.notify(message, severity="error", timeout=30)
            case _ if event.kind not in PROGRESS_KINDS:  # a job or the run changed status
                self.query_one(QueueView).mark_stale()

    def _jobs_of_shown_run(self) -> list[Job]:
        return self.services.control.jobs(self._shown_run.id) if self._shown_run else []

    def _refresh_views(self) -> None:
        self._refresh_tab_in_view()
        self._show_holds()

    def _show_holds(self) -> None:
        """What keeps images from being made, in the progress line for as long as it lasts."""
        control = self.services.control
        self.query_one(RunProgress).show_holds(control.holds(), control.waiting_runs)

    def _refresh_tab_in_view(self) -> None:
        """Views hold what changed while out of sight and draw it only when in view: work
        for hidden widgets is wasted, and a hidden view that grows makes Textual lay out the
        whole screen."""
        for view in WAITING_VIEWS.get(self.active_tab, ()):
            self.query_one(view).show_waiting()

    # -- resources -----------------------------------------------------------------------

    @work(exclusive=True, group="catalog", exit_on_error=False)
    async def load_catalog(self, refresh: bool = False) -> None:
        catalog = await self.services.catalog(refresh=refresh)
        if catalog is None:
            return
        favourites = self.services.favourites(catalog)
        self.query_one(StageCards).update_catalog(catalog, favourites)
        if refresh:
            self.notify(f"{len(catalog.models)} models, {len(catalog.samplers)} samplers")

    def action_refresh_resources(self) -> None:
        self.load_catalog(refresh=True)

    @work(thread=True, exit_on_error=False, group="results")
    def _load_results(self, limit: int | None = None) -> None:
        """Rows for the images recorded since the last look (read in a thread); at start
        (`limit`), also what earlier sessions' ratings say for learned mode."""
        rows = self.services.results.new_rows(limit)
        if limit is not None:
            self.services.refresh_beliefs(self.app.call_from_thread(self.services.ratings.rated))
        if rows:
            self.app.call_from_thread(self._add_results, rows)

    def _add_results(self, rows: list[ResultRow]) -> None:
        table = self.query_one(ResultsTable)
        for row in rows:
            table.add_result(row)
        self.query_one(PromptEditor).refresh_view()  # learned mode draws from the ratings

    @on(ResultsTable.Rated)
    async def _rated(self, message: ResultsTable.Rated) -> None:
        rate, row = self.services.results.rate, message.row
        try:
            warning = await asyncio.to_thread(rate, row, message.rating)  # fsynced: off the loop
        except OSError as error:
            self.notify(f"the rating was not saved: {error}", severity="error", timeout=10)
            return
        self.notify(f"rated {message.rating}" if message.rating else "rating cleared", timeout=2)
        if warning:  # the rating is saved; only its run's summary.csv lags
            self.notify(warning, severity="warning", timeout=10)
        self._learn_from(self.services.ratings.rated())
        if self._catalog_loaded:
            self.load_catalog()  # favourites may have changed

    @work(thread=True, exclusive=True, exit_on_error=False, group="beliefs")
    def _learn_from(self, rated: list) -> None:
        """Learned mode draws from the ratings: the editor's next prompt may change."""
        self.services.refresh_beliefs(rated)
        self.app.call_from_thread(self.query_one(PromptEditor).refresh_view)

    # -- running -------------------------------------------------------------------------

    def action_run_prompt(self) -> None:
        self.query_one(PromptEditor).flush()
        draft = self.services.draft
        if draft.error is not None:
            self.notify(str(draft.error), severity="error", timeout=10)
            return
        if not draft.text.strip():
            self.notify("the template is empty", severity="error")
            return
        if self._queue(RunRequest(
            prompt=draft.text, negative=draft.negative, flags=self._flags(), mode=draft.mode,
            locks=draft.run_locks, prompt_seed=draft.prompt_seed, random_seed=self.next_seed,
        )):  # fmt: skip
            draft.run_taken()  # re-rolls were for this run alone
            self.query_one(PromptEditor).refresh_view()

    def action_run_pack(self) -> None:
        if self.pack is None:
            self.notify("open a pack first (Ctrl+O)", severity="warning")
            return
        self._queue(
            RunRequest(pack=str(self.pack.path), flags=self._flags(), random_seed=self.next_seed)
        )

    def _flags(self) -> dict[str, Any]:
        """What the user changed in the cards. A random seed (-1) stays -1: the run starts
        from the seed the preview was drawn with (`random_seed`), which is never remembered."""
        return self.query_one(StageCards).changed()

    def remember_session(self) -> None:
        """Save the cards and the editor as they are now as the last run (on quit)."""
        self.query_one(PromptEditor).flush()
        draft = self.services.draft
        self.services.remember(self._flags(), draft.text, draft.negative)

    def _queue(self, request: RunRequest) -> bool:
        """Ask for the run; False when the cards must be fixed first."""
        invalid = self.query_one(StageCards).invalid_fields()
        if invalid:
            self.notify(f"fix these first: {'; '.join(invalid)}", severity="error", timeout=10)
            return False
        request.preset = self.services.preset
        self._waits_for_a_node()
        self._prepare_and_submit(request)
        # The next run draws anew at once: a second Ctrl+R while this one is being planned
        # (or waits for a node) must not repeat its seed.
        self.next_seed = self.services.new_seed()
        self._update_seed()
        return True

    def _waits_for_a_node(self) -> None:
        if not self.services.monitor.ready:
            self.notify("no node answers yet: the run starts when one is READY", timeout=5)

    @work(group="prepare", exit_on_error=False)
    async def _prepare_and_submit(self, request: RunRequest) -> None:
        self._queued(await self.services.control.queue_run(request))

    def _queued(self, queued: QueuedRun | None) -> None:
        self._show_holds()
        if queued is None:  # cancelled while it waited for a node
            return
        after = f", after {queued.ahead} run(s) already queued" if queued.ahead else ""
        self.notify(f"queued {queued.images} image(s){after}", timeout=3)
        for warning in queued.warnings:
            self.notify(warning, severity="warning", timeout=10)

    def _update_seed(self) -> None:
        cards_seed = self.query_one(StageCards).values()["txt2img"].get("seed", -1)
        seed = self.next_seed if cards_seed in (-1, None) else cards_seed
        self.query_one(PromptEditor).set_image_seed(seed)

    @on(Input.Changed, SEED_FIELD)
    def _seed_changed(self) -> None:
        self._update_seed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place where background errors become notifications, never tracebacks."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        message = str(error) if isinstance(error, StableNewError) else f"unexpected: {error!r}"
        self.notify(message, severity="error", timeout=10)
        self.query_one(JobLog).note(message, problem=True)

    # -- packs, tabs, control ------------------------------------------------------------

    def _tab_titles(self) -> dict[str, str]:
        """Each tab's name and the key that shows it, as remapped in the keymap."""
        return {tab: f"{name} {self._key_of(f'tab_{tab}')}" for tab, name in TAB_NAMES.items()}

    def _key_of(self, binding_id: str) -> str:
        """The key of one of this screen's bindings, as remapped in the keymap."""
        binding = next(b for b in bindings_of(MainScreen) if b.id == binding_id)
        return key_display(self.app, binding, self.services.config.ui.keymap)

    @property
    def active_tab(self) -> str:
        return self.query_one(ContentSwitcher).current or ""

    @on(TabBar.Chosen)
    def _tab_clicked(self, message: TabBar.Chosen) -> None:
        self.action_show_tab(message.tab)

    def _show_key_hints(self, tab: str) -> None:
        owners: dict[str, tuple[type[DOMNode], ...]] = {
            "prompt": (PromptEditor, SegmentTable), "queue": (QueueView,),
            "results": (ResultsTable,), "insights": (OptionTable,),
        }  # fmt: skip
        in_tab = [binding for owner in owners.get(tab, ()) for binding in bindings_of(owner)]
        palette = Binding(self.app.COMMAND_PALETTE_BINDING, "command_palette", "Palette")
        app_keys = bindings_of(cast("type[DOMNode]", type(self.app)))
        bindings = [*bindings_of(MainScreen), *in_tab, palette, *app_keys]
        self.query_one(KeyHints).show_bindings(bindings, self.services.config.ui.keymap)

    def action_open_packs(self) -> None:
        keymap = self.services.config.ui.keymap
        self.app.push_screen(PackBrowser(self.services.packs(), keymap), self._pack_chosen)

    def _pack_chosen(self, choice: PackChoice | None) -> None:
        if choice is None:
            return
        self.pack = choice.pack
        if choice.prompt_index is None:
            self.action_run_pack()
            return
        entry = choice.pack.prompts[choice.prompt_index]
        self.query_one(PromptEditor).load(entry.prompt, choice.pack.negative_for(entry))
        self.action_show_tab("prompt")

    def action_show_tab(self, tab: str) -> None:
        """Show a tab, brought up to date before its first frame, with the keyboard in it."""
        switcher = self.query_one(ContentSwitcher)
        if switcher.current != tab:
            switcher.current = tab
            self.query_one(TabBar).show_active(tab)
            self._show_key_hints(tab)
            self._refresh_tab_in_view()
        self.focus_tab()

    def focus_tab(self) -> None:
        """The keyboard to the tab in view: the segment list on the Prompt tab (as at start;
        `e` edits the template), else the tab's first input."""
        pane = self.query_one(ContentSwitcher).get_child_by_id(self.active_tab)
        focusable = next((widget for widget in pane.query("*") if widget.can_focus), None)
        if self.active_tab == "prompt":
            focusable = self.query_one(SegmentTable)
        if focusable is not None:
            focusable.focus()

    def action_toggle_pause(self) -> None:
        if self.services.control.toggle_pause():
            self.notify("paused: the image being made finishes, then nothing starts")
        else:
            self.notify("resumed")
        self._show_holds()

    async def action_skip(self) -> None:
        await self.services.control.skip()

    async def action_interrupt(self) -> None:
        if self.services.control.running is None:
            return
        await self.services.control.interrupt()
        self._show_holds()
        self.notify(
            "interrupted: the image being made goes back to the queue and the run stops; "
            f"{self._key_of('resume_run')} resumes it", timeout=8, markup=False,
        )  # fmt: skip

    async def action_cancel_all(self) -> None:
        waiting = self.services.control.waiting_runs
        cancelled = await self.services.control.cancel_all()
        dropped = f" and {waiting} run(s) waiting for a node" if waiting else ""
        self.notify(f"cancelled {cancelled} queued image(s){dropped}")
        self._show_holds()

    def action_cancel_job(self) -> None:
        job_id = self.query_one(QueueView).selected_job_id
        if job_id and self._shown_run:
            self.services.control.cancel_job(self._shown_run.id, job_id)
            self._queue_changed()

    def action_requeue_failed(self) -> None:
        if self._shown_run is None:
            return
        count = self.services.control.requeue_failed(self._shown_run.id)
        self.notify(f"{count} failed image(s) queued again")
        self._queue_changed()

    def action_run_next(self) -> None:
        job_id = self.query_one(QueueView).selected_job_id
        if job_id:
            self.services.control.run_next(job_id)
            self._queue_changed()

    # -- finished images and unfinished runs ---------------------------------------------

    @on(ResultsTable.Act)
    def _image_key(self, message: ResultsTable.Act) -> None:
        self.image_actions.run(message.action, message.row)

    def action_refine_marked(self) -> None:
        self.image_actions.refine_marked()

    def action_choose_run_to_resume(self) -> None:
        self.unfinished.choose()

    def _queue_changed(self) -> None:
        """A key changed the queue: show it now, not at the next refresh."""
        self.query_one(QueueView).mark_stale()
        self._refresh_tab_in_view()

"""The main screen: prompt, stages, queue and results, with node status and progress always
in sight. It composes the widgets and maps keys and messages to calls on the services; what
those calls do lives there (`RunControl`, `ResultsFeed`), shared with the CLI. The keys that
steer runs are in `main_runs`, finished images and their keys in `main_images`."""

from __future__ import annotations

from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
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
from stablenew_tui.services.results import RECENT_RESULTS
from stablenew_tui.tui.collector import QuietCollector
from stablenew_tui.tui.image_actions import SEED_FIELD, ImageActions
from stablenew_tui.tui.keys import bindings_of
from stablenew_tui.tui.messages import EngineEvents, pump_events
from stablenew_tui.tui.screens.main_images import ImageWiring
from stablenew_tui.tui.screens.main_runs import RunWiring
from stablenew_tui.tui.screens.pack_browser import PackBrowser, PackChoice
from stablenew_tui.tui.screens.resume import UnfinishedRuns
from stablenew_tui.tui.services import TuiServices
from stablenew_tui.tui.widgets.insights import InsightsView, OptionTable
from stablenew_tui.tui.widgets.job_log import JobLog
from stablenew_tui.tui.widgets.key_hints import KeyHints, key_display
from stablenew_tui.tui.widgets.node_status import NodeStatusBar
from stablenew_tui.tui.widgets.nodes_view import NodesView
from stablenew_tui.tui.widgets.prompt_editor import PromptEditor, SegmentTable
from stablenew_tui.tui.widgets.queue_view import QueueView
from stablenew_tui.tui.widgets.results import ResultsPane, ResultsTable
from stablenew_tui.tui.widgets.run_progress import RunProgress
from stablenew_tui.tui.widgets.stage_cards import StageCards
from stablenew_tui.tui.widgets.tab_bar import TabBar

TAB_NAMES = {
    "prompt": "Prompt", "stages": "Stages", "queue": "Queue", "results": "Results",
    "insights": "Insights", "nodes": "Nodes",
}  # fmt: skip
VIEW_REFRESH_SECONDS = 0.25
# The views of each tab that keep changes waiting until the tab is in view.
WAITING_VIEWS: dict[str, tuple[type[QueueView | JobLog | ResultsTable | NodesView], ...]] = {
    "queue": (QueueView, JobLog),
    "results": (ResultsTable,),
    "nodes": (NodesView,),
}
# Reports that change no job's status.
PROGRESS_KINDS = ("progress", "video_progress")


class MainScreen(ImageWiring, RunWiring):
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
        Binding("ctrl+f", "show_tab('nodes')", "Nodes", id="tab_nodes", show=False),
        # Not F6/F7/Ctrl+X: the template editor uses those.
        Binding("ctrl+l", "refresh_resources", "Refresh resources", id="refresh", show=False),
        Binding("f8", "toggle_pause", "Pause", id="pause", show=False),
        Binding("f9", "skip", "Skip", id="skip", show=False),
        Binding("f10", "interrupt", "Interrupt", id="interrupt", show=False),
        Binding("f12", "cancel_all", "Cancel all", id="cancel_all", show=False),
        Binding("ctrl+t", "choose_run_to_resume", "Resume run…", id="resume_run", show=False),
        Binding("f1,question_mark", "app.help", "Help", id="help"),
    ]

    def __init__(self, services: TuiServices, collector: QuietCollector) -> None:
        super().__init__()
        self.services = services
        self.collector = collector
        self.next_seed = services.new_seed()
        self.pack: Pack | None = None  # the pack last opened in the browser, for "run pack"
        self._shown_run: Run | None = None  # the run the queue view and new results belong to
        self._catalog_loaded = False
        self.image_actions = ImageActions(self)
        self.unfinished = UnfinishedRuns(self)

    def compose(self) -> ComposeResult:
        services = self.services
        yield NodeStatusBar(services.monitor.status, id="node-status")
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
            with Vertical(id="nodes"):
                yield NodesView(services.node_rows, services.node_tallies, services.node_control)
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
        # The widget tree lives as long as the app: out of the collector's scans from its
        # first frame on (see `collector` for why, and for the young generation's size).
        self.call_after_refresh(self.collector.settle, self.app)

    def on_unmount(self) -> None:
        self.collector.restore()

    # -- engine events -------------------------------------------------------------------

    @on(EngineEvents)
    def _engine_events(self, message: EngineEvents) -> None:
        log = self.query_one(JobLog)
        for event in message.events:
            log.show(event)
            self._engine_event(event)
        self.query_one(RunProgress).show(message.events)
        self._show_holds()  # a run that ended drops its STOPPING with its last line
        status = self.services.run_status
        status.update(message.events)
        self._show_holds()  # and the images left
        self.query_one(NodeStatusBar).show_activity(status.activity, status.out)
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
                key = self._key_of("pause")
                message = f"paused: {event.problem}; {event.fix}, then resume with {key}"
                self.notify(message, severity="error", timeout=30)
            case _ if event.kind not in PROGRESS_KINDS:  # a job or the run changed status
                self.query_one(QueueView).mark_stale()

    def _jobs_of_shown_run(self) -> list[Job]:
        return self.services.control.jobs(self._shown_run.id) if self._shown_run else []

    def _refresh_views(self) -> None:
        self.query_one(QueueView).read_if_stale()  # in any tab: read before it comes into view
        self._refresh_tab_in_view()
        self._show_holds()

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

    # -- running -------------------------------------------------------------------------

    def action_run_prompt(self) -> None:
        self.query_one(PromptEditor).flush()
        draft = self.services.draft
        if draft.error is not None:
            self.notify(str(draft.error), severity="error", timeout=10)
            return
        if not draft.text.strip():
            self._nothing_to_run()
            return
        if self._queue(RunRequest(
            prompt=draft.text, negative=draft.negative, flags=self._flags(), mode=draft.mode,
            locks=draft.run_locks, prompt_seed=draft.prompt_seed, random_seed=self.next_seed,
        )):  # fmt: skip
            draft.run_taken()  # re-rolls were for this run alone
            self.query_one(PromptEditor).refresh_view()

    def _nothing_to_run(self) -> None:
        """Show the empty template (with its example) and say how to fill it."""
        if self.active_tab != "prompt":
            self.action_show_tab("prompt")
        edit, packs = self._key_of("editor.edit", PromptEditor), self._key_of("packs")
        self.notify(
            f"nothing to run: the template is empty. {edit} writes one (the grey text is only "
            f"an example); {packs} opens a pack", severity="error", timeout=10, markup=False,
        )  # fmt: skip

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
        if not self.services.control.waiting_runs:  # else one asked before starts first
            self.query_one(RunProgress).expect_run(None)  # counted once planned
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
        if not queued.ahead:
            self.query_one(RunProgress).expect_run(queued.images)
            self._show_holds()
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

    # -- packs and tabs ------------------------------------------------------------------

    def _tab_titles(self) -> dict[str, str]:
        """Each tab's name and the key that shows it, as remapped in the keymap."""
        return {tab: f"{name} {self._key_of(f'tab_{tab}')}" for tab, name in TAB_NAMES.items()}

    def _key_of(self, binding_id: str, owner: type[DOMNode] | None = None) -> str:
        """The key of one of this screen's bindings (or `owner`'s), as remapped in the
        keymap."""
        binding = next(b for b in bindings_of(owner or MainScreen) if b.id == binding_id)
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
            "results": (ResultsTable,), "insights": (OptionTable,), "nodes": (NodesView,),
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

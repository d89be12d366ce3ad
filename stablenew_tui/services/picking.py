"""Pick mode's work, without the screen: a comparison run's images, the pair to show next, and
each pick written to the picks file (`learning.picks`).

The run is the one the Results selection belongs to when that is a comparison, else the newest
comparison in the queue. Its images are each cell's final image still on disk; a cell that
failed has none and takes no part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stablenew_tui.errors import InputError
from stablenew_tui.learning.bradley_terry import fit
from stablenew_tui.learning.picks import Pick, PickedImage, PickStore, next_pair
from stablenew_tui.pipeline.compare_grid import GRID_SOURCE, ComparisonGrid
from stablenew_tui.pipeline.contact_sheet import cell_key, comparison_run, final_images
from stablenew_tui.pipeline.jobs import Run
from stablenew_tui.pipeline.queue import JobQueue


@dataclass
class PickSession:
    run: Run
    grid: ComparisonGrid
    images: dict[str, PickedImage]  # by path, in the grid's order
    store: PickStore
    template: str | None = None  # what the grid's prompt was drawn from
    skipped: list[frozenset[str]] = field(default_factory=list)
    made: int = 0  # picks made in this session

    @classmethod
    def open(cls, queue: JobQueue, run_id: str | None, picks_file: Path) -> PickSession:
        """Blocking (reads the queue and the run's manifest): async callers use a thread."""
        selected = queue.run(run_id) if run_id else None
        run = selected if selected and selected.source.get(GRID_SOURCE) else None
        run = run or comparison_run(queue, None)
        grid = ComparisonGrid.from_run(run)
        jobs = queue.jobs(run.id)
        paths = final_images(run, jobs)
        images: dict[str, PickedImage] = {}
        for job in jobs:
            cell = job.spec.cell or {}
            path = paths.get(cell_key(grid, cell)) if cell else None
            if path is not None and path.exists():
                images[str(path)] = PickedImage(str(path), job.id, dict(cell))
        if len(images) < 2:
            raise InputError(f"comparison {run.name!r} has fewer than two images to pick from")
        return cls(run, grid, images, PickStore(picks_file), jobs[0].spec.template)

    @property
    def picks(self) -> list[Pick]:
        return self.store.of_run(self.run.id)

    def next(self) -> tuple[PickedImage, PickedImage] | None:
        picks = self.picks
        ranked = fit(list(self.images), [(p.preferred.path, p.other.path) for p in picks])
        strengths = {str(s.item): s.strength for s in ranked}
        pair = next_pair(list(self.images), picks, strengths, self.skipped)
        return None if pair is None else (self.images[pair[0]], self.images[pair[1]])

    def pick(self, preferred: PickedImage, other: PickedImage) -> None:
        """Blocking (fsync): async callers use a thread."""
        self.store.record(Pick(self.run.id, preferred, other, self.grid.describe(), self.template))
        self.made += 1

    def skip(self, left: PickedImage, right: PickedImage) -> None:
        self.skipped.append(frozenset((left.path, right.path)))

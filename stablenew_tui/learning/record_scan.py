"""Reading only the learning records that matter, fast.

A long history holds a hundred thousand records of about a kilobyte each; `json.loads` of every
line takes most of a second. Rating an image or reporting on the rated ones needs a small part
of them, so each raw line is first tested with a cheap string check and only the lines that
pass are parsed. A check may let an unwanted line through (the caller looks at the parsed
record again); it must never turn a wanted line away.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stablenew_tui.learning.records import RecordsRead

# The records' writer puts `job_id` near the start of the line, before any prompt text, as
# json.dumps spells it; inside a JSON string every quote is escaped, so this only finds a key.
_JOB_ID = b'"job_id": "'

LineCheck = Callable[[bytes], bool]


def scan_records(path: Path, keep_line: LineCheck) -> RecordsRead:
    """The records on the lines that `keep_line` lets through, parsed (see `_parsed` for
    what of them); unreadable lines among them are reported, as `read_records` does. Lines
    are checked as bytes: decoding a long history only to throw most of it away costs more
    than the check."""
    result = RecordsRead()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return result
    with collector_paused():
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line or not keep_line(line) or line.isspace():
                continue
            try:
                record = _parsed(line.decode("utf-8", errors="replace"))
            except json.JSONDecodeError:
                result.skipped_lines.append(number)
                continue
            if isinstance(record, dict):
                result.records.append(record)
            else:
                result.skipped_lines.append(number)
    return result


_DECODER = json.JSONDecoder()
# How the engine's writer lays a record out: top-level fields, then inputs, then outputs.
_INPUTS = '"inputs": '
_PATHS_NEXT = ', "outputs": {"paths": '


def _parsed(text: str) -> Any:
    """The record on one line, as the learning code reads it: the top-level fields before
    `inputs`, `inputs`, and `outputs.paths`. Skipping the rest (infotext, info, timings) saves
    a sixth of the parsing; a line laid out otherwise is parsed whole."""
    start = text.find(_INPUTS)
    if start < 2 or text[start - 2 : start] != ", " or not text.endswith("}"):
        return json.loads(text)
    try:
        record = json.loads(text[: start - 2] + "}")
        inputs, end = _DECODER.raw_decode(text, start + len(_INPUTS))
        if not text.startswith(_PATHS_NEXT, end):
            return json.loads(text)
        paths, _ = _DECODER.raw_decode(text, end + len(_PATHS_NEXT))
    except json.JSONDecodeError:
        return json.loads(text)  # the whole line says what is wrong, or reads after all
    record["inputs"], record["outputs"] = inputs, {"paths": paths}
    return record


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector runs after every few hundred new objects and walks
    all live ones; reading a long history makes millions of small objects that all stay
    alive and form no cycles, so the collector would only slow the reading (about twice)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                # What the pause made moves straight to the oldest generation: otherwise the
                # next young-generation pass walks all of it once. (Skipped when something
                # else froze objects, as unfreezing would release those too.)
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def of_jobs(job_ids: Collection[str], paths: Collection[str] = ()) -> LineCheck:
    """A line check for the records of these jobs, or naming one of these image paths."""
    wanted = {job.encode() for job in job_ids}
    needles = _needles(paths)

    def keep(line: bytes) -> bool:
        start = line.find(_JOB_ID)
        if start < 0:
            return True  # no job id as the writer puts it: look at the whole record
        start += len(_JOB_ID)
        if line[start : line.find(b'"', start)] in wanted:
            return True
        return any(needle in line for needle in needles)

    return keep


def naming_files(names: Collection[str]) -> LineCheck:
    """A line check for the records whose text holds one of these file names."""
    needles = _needles(names)
    return lambda line: any(needle in line for needle in needles)


def _needles(texts: Collection[str]) -> list[bytes]:
    """Each text as it appears inside a JSON string written with ensure_ascii=False."""
    return [json.dumps(text, ensure_ascii=False)[1:-1].encode() for text in texts]


def records_of_images(records_path: Path, images: Collection[Path]) -> dict[Path, tuple[str, dict]]:
    """For each image file that a record names, that record and the path as the record
    spells it (the key ratings use). Paths compare resolved, so `./a.png`, a relative path and
    a symbolic link all find the same image."""
    wanted = {image.expanduser().resolve() for image in images}
    found: dict[Path, tuple[str, dict]] = {}
    scanned = scan_records(records_path, naming_files({image.name for image in wanted}))
    for record in scanned.records:
        outputs = record.get("outputs")
        paths = outputs.get("paths") if isinstance(outputs, dict) else None
        for path in paths if isinstance(paths, list) else ():
            if isinstance(path, str) and (resolved := Path(path).expanduser().resolve()) in wanted:
                found[resolved] = (path, record)  # a later record of the same image wins
    return found

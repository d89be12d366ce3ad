"""Reading only the learning records that matter, fast.

A long history holds a hundred thousand records of about a kilobyte each; `json.loads` of every
line takes most of a second. Rating an image or reporting on the rated ones needs a small part
of them, so each raw line is first tested with a cheap string check and only the lines that
pass are parsed. A check may let an unwanted line through (the caller looks at the parsed
record again); it must never turn a wanted line away.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from pathlib import Path

from stablenew_tui.learning.records import RecordsRead

# The records' writer puts `job_id` near the start of the line, before any prompt text; inside
# a JSON string every quote is escaped, so this pattern only matches a key.
_JOB_ID = re.compile(r'"job_id":\s*"([^"\\]*)"')


def scan_records(path: Path, keep_line: Callable[[str], bool]) -> RecordsRead:
    """The records on the lines that `keep_line` lets through, parsed; unreadable lines
    among them are reported, as `read_records` does."""
    result = RecordsRead()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return result
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or not keep_line(line):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            result.skipped_lines.append(number)
            continue
        if isinstance(record, dict):
            result.records.append(record)
        else:
            result.skipped_lines.append(number)
    return result


def of_jobs(job_ids: Collection[str], paths: Collection[str] = ()) -> Callable[[str], bool]:
    """A line check for the records of these jobs, or naming one of these image paths."""
    needles = [json.dumps(path, ensure_ascii=False)[1:-1] for path in paths]

    def keep(line: str) -> bool:
        found = _JOB_ID.search(line)
        if found is None or found.group(1) in job_ids:
            return True  # no job id where the writer puts it: look at the whole record
        return any(needle in line for needle in needles)

    return keep


def naming_files(names: Collection[str]) -> Callable[[str], bool]:
    """A line check for the records whose text holds one of these file names."""
    needles = [json.dumps(name, ensure_ascii=False)[1:-1] for name in names]
    return lambda line: any(needle in line for needle in needles)


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

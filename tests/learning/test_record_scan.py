"""Reading only the records that matter: the line checks and the partial parse never change
what a record says, and never hide a broken line."""

from __future__ import annotations

import gc
import json

from stablenew_tui.learning.record_scan import collector_paused, naming_files, of_jobs, scan_records
from stablenew_tui.learning.records import RecordWriter, read_records
from tests.learning.synthetic import TEMPLATE, draw, prompt_fields, record, txt2img_inputs


def _record(job: str, path: str) -> dict:
    inputs = txt2img_inputs(prompt_fields(draw(TEMPLATE, 1)), "m", "Euler a", 7.0, 1)
    inputs["prompt"] = 'a "quoted" prompt with "inputs": {"paths": ["x"]} in it'
    written = record(job, "txt2img", inputs, path, 1.0)
    return {key: value for key, value in written.items() if key != "record_version"}


def test_the_partial_parse_keeps_what_the_full_parse_says(tmp_path):
    path = tmp_path / "records.jsonl"
    RecordWriter(path).append([_record("j1", "/o/1.png"), _record("j2", "/o/2.png")])
    full = read_records(path).records
    scanned = scan_records(path, of_jobs({"j2"})).records
    assert len(scanned) == 1
    for key in ("record_version", "time", "run_id", "job_id", "stage", "node", "inputs"):
        assert scanned[0][key] == full[1][key]
    assert scanned[0]["outputs"] == {"paths": full[1]["outputs"]["paths"]}


def test_records_laid_out_otherwise_are_read_whole(tmp_path):
    path = tmp_path / "records.jsonl"
    compact = {"outputs": {"paths": ["/o/3.png"]}, "inputs": {"model": "m"}, "job_id": "j3",
               "stage": "txt2img"}  # fmt: skip
    path.write_text(json.dumps(compact, separators=(",", ":")) + "\n")
    assert scan_records(path, of_jobs({"other"})).records == [compact]  # no job id as written


def test_broken_lines_are_reported_not_hidden(tmp_path):
    path = tmp_path / "records.jsonl"
    RecordWriter(path).append([_record("j1", "/o/1.png")])
    whole = path.read_text()
    torn = whole.rstrip("\n")[: whole.index('"timings"')]  # inputs and paths are complete
    path.write_text(whole + torn + "\n" + "\n")
    read = scan_records(path, of_jobs({"j1"}))
    assert len(read.records) == 1 and read.skipped_lines == [2]


def test_line_checks(tmp_path):
    path = tmp_path / "records.jsonl"
    RecordWriter(path).append(
        [_record("j1", "/o/one.png"), _record("j2", "/o/two.png"), _record("j3", "/o/3.png")]
    )
    assert [r["job_id"] for r in scan_records(path, of_jobs({"j3"}, ["/o/one.png"])).records] == [
        "j1",
        "j3",
    ]
    assert [r["job_id"] for r in scan_records(path, naming_files(["two.png"])).records] == ["j2"]


def test_the_collector_comes_back_as_it_was():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

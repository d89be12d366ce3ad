from stablenew_tui.learning.records import RecordWriter, read_records
from stablenew_tui.pipeline.lastrun import load_last_run, save_last_run
from stablenew_tui.pipeline.settings import merge_settings


def test_torn_last_line_is_skipped_and_reported(tmp_path):
    path = tmp_path / "records.jsonl"
    writer = RecordWriter(path)
    writer.append([{"job_id": "a"}, {"job_id": "b"}])
    with path.open("a") as handle:
        handle.write('{"job_id": "c", "sta')  # a crash in the middle of an append
    read = read_records(path)
    assert [record["job_id"] for record in read.records] == ["a", "b"]
    assert read.skipped_lines == [3]


def test_records_carry_a_version(tmp_path):
    path = tmp_path / "records.jsonl"
    RecordWriter(path).append([{"job_id": "a"}])
    assert read_records(path).records[0]["record_version"] == 1


def test_last_run_round_trip(tmp_path):
    path = tmp_path / "last_run.toml"
    settings = merge_settings(("t", {"txt2img": {"steps": 33, "model": "m.safetensors"}}))
    save_last_run(path, settings, "a {red|blue} fox", "blurry")
    last = load_last_run(path)
    assert last.prompt == "a {red|blue} fox" and last.negative == "blurry"
    assert merge_settings(("last", last.settings)) == settings
    assert last.warnings == []


def test_last_run_unknown_keys_are_ignored_with_a_warning(tmp_path):
    path = tmp_path / "last_run.toml"
    path.write_text("[settings]\nfuture = 1\n[settings.txt2img]\nsteps = 12\nwarp = 9\n")
    last = load_last_run(path)
    assert last.settings == {"txt2img": {"steps": 12}}
    assert any("settings.future" in warning for warning in last.warnings)
    assert any("settings.txt2img.warp" in warning for warning in last.warnings)


def test_unreadable_last_run_is_a_warning(tmp_path):
    path = tmp_path / "last_run.toml"
    path.write_text("[settings\n")
    last = load_last_run(path)
    assert last.settings == {} and last.warnings


def test_last_run_nested_too_deeply_is_a_warning(tmp_path):
    path = tmp_path / "last_run.toml"
    path.write_text("[settings]\nstages = " + "[" * 6000 + "]" * 6000 + "\n")
    last = load_last_run(path)
    assert last.settings == {} and "not readable" in last.warnings[0]


def test_follower_reads_only_what_was_appended(tmp_path):
    from stablenew_tui.learning.records import RecordsFollower

    path = tmp_path / "records.jsonl"
    follower = RecordsFollower(path)
    assert follower.refresh() == []
    RecordWriter(path).append([{"job_id": "a"}])
    assert [r["job_id"] for r in follower.refresh()] == ["a"]
    with path.open("a") as handle:
        handle.write('{"job_id": "b"}\n{"job_id": "c", "sta')  # c is still being written
    assert [r["job_id"] for r in follower.refresh()] == ["a", "b"]
    with path.open("a") as handle:
        handle.write('ge": "txt2img"}\n')
    assert [r["job_id"] for r in follower.refresh()] == ["a", "b", "c"]

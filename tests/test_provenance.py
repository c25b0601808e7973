"""Provenance records: inputs and hashes, code version, determinism, sidecars."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from conftest import REPO

from balance_metrics import load_period, load_standard
from balance_metrics.reporting import provenance
from balance_metrics.reporting.presentation import VOLATILE_CLASS, provenance_block


@pytest.fixture
def dataset(district_dir):
    return load_period(district_dir)


def _record(dataset, **params):
    recorder = provenance.start("district", {"period": dataset.period, **params})
    return recorder.finish(dataset, load_standard("national-2017"))


def test_record_lists_every_input_with_hash_and_rows(dataset):
    record = _record(dataset)
    files = {entry["file"]: entry for entry in record.inputs}
    assert set(files) == {"schools.csv", "sections.csv", "facilities.csv"}
    for name, entry in files.items():
        assert entry["sha256"] == hashlib.sha256((dataset.path / name).read_bytes()).hexdigest()
    assert files["sections.csv"]["rows"] == 9
    assert record.standard == {
        "name": "national-2017",
        "version": load_standard("national-2017").version,
        "title": load_standard("national-2017").title,
        "chain": ["national-2017"],
    }
    assert record.period == "2022Q4"
    assert record.package["name"] == "balance-metrics"
    assert record.python["version"].count(".") == 2
    assert "pandas" in record.libraries and record.libraries["pandas"] != "未安装"
    assert record.duration_seconds >= 0


def test_chain_of_a_local_standard(dataset):
    record = provenance.start("district", {}).finish(dataset, load_standard("beichen-2021"))
    assert record.standard["chain"][0] == "national-2017"
    assert record.standard["chain"][-1] == "beichen-2021"


def test_same_inputs_differ_only_in_times(dataset):
    first, second = _record(dataset, lang="zh-CN"), _record(dataset, lang="zh-CN")
    assert provenance.strip_volatile(first) == provenance.strip_volatile(second)
    assert set(provenance.VOLATILE_FIELDS) <= set(first.to_dict())


def test_json_sidecar_round_trip(dataset, tmp_path):
    record = _record(dataset).with_extra(outputs={"html": "district.html"})
    path = provenance.write_sidecar(record, tmp_path / "district.provenance.json")
    data = provenance.read_sidecar(path)
    assert data == json.loads(record.to_json())
    assert data["extra"]["outputs"]["html"] == "district.html"
    assert "县域义务教育" in path.read_text(encoding="utf-8"), "Chinese stays readable (ensure_ascii=False)"
    assert provenance.write_sidecar(record, None) is None


def test_sidecar_write_is_atomic(dataset, tmp_path, monkeypatch):
    folder = tmp_path / "reports"
    folder.mkdir()
    target = folder / "district.provenance.json"
    target.write_text("old", encoding="utf-8")
    record = _record(dataset)

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("balance_metrics.common.atomic.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        provenance.write_sidecar(record, target)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in folder.iterdir()] == [target.name], "no temporary file left behind"


def test_git_commit_of_this_checkout():
    commit, _dirty = provenance.git_revision(REPO)
    expected = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if expected.returncode != 0:
        pytest.skip("not a git checkout")
    assert commit == expected.stdout.strip()


def test_no_git_is_tolerated(tmp_path, monkeypatch):
    assert provenance.git_revision(tmp_path) == (None, None)  # not a checkout

    def no_git(*_args, **_kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert provenance.git_revision(REPO) == (None, None)


def test_missing_library_is_reported():
    versions = provenance.library_versions(["pandas", "no-such-distribution-xyz"])
    assert versions["no-such-distribution-xyz"] == "未安装"


def test_block_marks_the_times_as_volatile(dataset):
    record = _record(dataset)
    html = str(provenance_block(record))
    # Start, finish, duration, and where the evaluated context came from (a
    # batch's context file is named after a pickle, which is not canonical).
    assert html.count(f'class="{VOLATILE_CLASS}"') == 4
    assert f'<span class="{VOLATILE_CLASS}">无（本报告自行读取并评估数据）</span>' in html
    assert record.inputs[0]["sha256"] in html
    assert "national-2017" in html


def test_bad_report_kind():
    with pytest.raises(ValueError, match="district"):
        provenance.start("county", {})

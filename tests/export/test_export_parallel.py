"""Worker processes of the export: results in order, failures as errors, and a time limit for hangs."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesign.export.parallel import DEFAULT_TASK_TIMEOUT_S, run_tasks, task_timeout
from hw_templates.errors import ExportError, SpecError

WORKER = """
import time
from hw_templates.errors import ExportError


def work(task):
    if task["kind"] == "sleep":
        time.sleep(task["seconds"])
    if task["kind"] == "fail":
        raise ExportError("layer 'x': no good")
    return {"double": 2 * task["value"]}
"""


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "codesign_test_worker.py").write_text(WORKER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the workers inherit it
    return "codesign_test_worker:work"


def test_results_come_back_in_task_order_and_failures_as_their_errors(tmp_path: Path, target: str) -> None:
    tasks = [{"kind": "ok", "value": 1}, {"kind": "fail", "value": 0}, {"kind": "ok", "value": 3}]
    logs = [tmp_path / "logs" / f"{i}.log" for i in range(3)]
    out = run_tasks(target, tasks, logs=logs, jobs=2, progress=False)
    assert out[0] == {"double": 2} and out[2] == {"double": 6}
    assert isinstance(out[1], ExportError) and "layer 'x': no good" in str(out[1])


def test_a_hanging_worker_is_stopped_and_reported_while_the_others_finish(tmp_path: Path, target: str) -> None:
    tasks = [{"kind": "sleep", "seconds": 60, "value": 0}, {"kind": "ok", "value": 5}]
    logs = [tmp_path / "hang.log", tmp_path / "ok.log"]
    # The limit leaves a loaded machine time to start the good worker's interpreter (it took > 2 s at load 18).
    out = run_tasks(target, tasks, logs=logs, jobs=2, progress=False, timeout=8)
    assert isinstance(out[0], ExportError)
    assert "did not finish within 8 s" in str(out[0]) and str(tmp_path / "hang.log") in str(out[0])
    assert out[1] == {"double": 10}


def test_the_time_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODESIGN_TASK_TIMEOUT", raising=False)
    assert task_timeout() == DEFAULT_TASK_TIMEOUT_S
    monkeypatch.setenv("CODESIGN_TASK_TIMEOUT", "0")
    assert task_timeout() is None
    monkeypatch.setenv("CODESIGN_TASK_TIMEOUT", "90")
    assert task_timeout() == 90
    monkeypatch.setenv("CODESIGN_TASK_TIMEOUT", "soon")
    with pytest.raises(SpecError, match="CODESIGN_TASK_TIMEOUT: expected seconds >= 0"):
        task_timeout()

"""Several processes on one study (SQLite): heartbeats keep live trials alive, dead workers' trials are
retried, and budget slots are never lost. Real Optuna storages, real processes, a cheap user problem."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from test_search_driver import SPACE, Evaluator, graph_of, plan

from codesign.search import FunctionProblem, run_search
from codesign.search.results import open_run
from codesign.search.storage import HeartbeatSettings, HeartbeatThread, default_storage, open_storage

FAST = HeartbeatSettings(interval_s=1, grace_s=3, max_retry=2)

#: A search process on a run folder; with HOLD set, its first evaluation waits until that file exists.
PROCESS = """
import os, sys, time
from pathlib import Path
from test_search_driver import SPACE, Evaluator, graph_of, plan
from codesign.search import FunctionProblem, run_search
from codesign.search.storage import HeartbeatSettings

run_dir, trials, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
hold = os.environ.get("HOLD")
inner = Evaluator()

def evaluate(arch, report):
    if hold and inner.calls == 0:
        (run_dir / f"holding-{os.getpid()}").write_text("")
        while not Path(hold).exists():
            time.sleep(0.05)
    return inner(arch, report)

from dataclasses import replace
p = replace(plan(trials=trials), seed=seed)
run_search(FunctionProblem(SPACE, graph_of, evaluate), p, run_dir, progress=False,
           heartbeat=HeartbeatSettings(interval_s=1, grace_s=3))
"""


def _start(run_dir: Path, trials: int, seed: int, hold: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    if hold is not None:
        env["HOLD"] = str(hold)
    cmd = [sys.executable, "-c", PROCESS, str(run_dir), str(trials), str(seed)]
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)


def _wait_for(predicate, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.05)


def test_a_second_process_never_fails_the_first_ones_live_trial(tmp_path) -> None:
    """The first process trains (held) for longer than the grace period while a second one runs the
    rest of the budget on the same run folder: the held trial stays alive and completes."""
    release = tmp_path / "release"
    first = _start(tmp_path, 5, 1, hold=release)
    _wait_for(lambda: any(tmp_path.glob("holding-*")))
    second = _start(tmp_path, 5, 2)
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err.decode()[-2000:]
    time.sleep(FAST.grace_s + 1)  # longer than the grace period: only the heartbeat keeps the held trial alive
    run_search(FunctionProblem(SPACE, graph_of, Evaluator()), plan(trials=5), tmp_path, progress=False,
               heartbeat=FAST)  # fmt: skip
    held = [t for t in open_run(tmp_path).study.get_trials() if t.state.name == "RUNNING"]
    assert len(held) == 1, "the held trial must still be running"
    release.write_text("")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()[-2000:]
    trials = open_run(tmp_path).study.get_trials()
    assert [t.state.name for t in trials].count("COMPLETE") == 5
    assert not [t for t in trials if t.state.name == "FAIL"], "no trial may be failed by the other process"
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2


def test_a_dead_workers_trial_is_retried_and_its_slot_is_not_lost(tmp_path) -> None:
    """A trial left RUNNING with a stale heartbeat (its process died) is failed, retried with the same
    architecture, and the study still ends with its requested number of completed trials."""
    p = plan(trials=3)
    run_search(FunctionProblem(SPACE, graph_of, Evaluator()), p, tmp_path, progress=False, heartbeat=FAST)
    store = open_storage(default_storage(tmp_path), FAST)
    study = optuna.load_study(study_name=p.name, storage=store)
    with pytest.warns(UserWarning, match="Heartbeat"):
        orphan = study.ask()  # a worker that asked, beat once, and died
    width = orphan.suggest_categorical("width", [4, 8, 16, 32])
    with HeartbeatThread(store, orphan._trial_id):
        pass
    time.sleep(FAST.grace_s + 1.5)
    summary = run_search(FunctionProblem(SPACE, graph_of, Evaluator()), plan(trials=4), tmp_path, progress=False,
                         heartbeat=FAST)  # fmt: skip
    trials = open_run(tmp_path).study.get_trials()
    assert trials[orphan.number].state.name == "FAIL" and summary.statuses.get("lost") == 1
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == orphan.number]
    assert len(retry) == 1 and retry[0].state.name == "COMPLETE"
    assert retry[0].params["width"] == width
    assert summary.completed == 4


def test_a_sqlite_storage_records_heartbeats_and_bounded_retries(tmp_path) -> None:
    store = open_storage(default_storage(tmp_path), FAST)
    assert store.get_heartbeat_interval() == 1 and store.grace_period == 3
    callback = store.get_heartbeat_stale_trial_callback()
    assert isinstance(callback, optuna.storages.RetryHeartbeatStaleTrialCallback) and callback._max_retry == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"interval_s": 0}, "interval_s"), ({"interval_s": 5, "grace_s": 5}, "grace_s"), ({"max_retry": -1}, "max_retry")],
)
def test_bad_heartbeat_settings_are_refused(kwargs, message) -> None:
    from hw_templates.errors import SpecError

    with pytest.raises(SpecError, match=message):
        HeartbeatSettings(**kwargs)


def test_a_surplus_trial_asked_beyond_the_budget_stands_down_and_takes_no_slot(tmp_path: Path) -> None:
    """Two workers that saw the last slot free both ask: the later trial number stands down."""
    from codesign.search.trial import takes_slot
    from codesign.search.worker import SURPLUS, surplus

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="s")
    first = study.ask()  # budget 2: one trial done, one running (the slot another worker took)
    study.tell(first, 1.0)
    running = study.ask()
    late = study.ask()
    assert not surplus(study, running, max_slots=2)  # its earlier peers hold 1 slot
    assert surplus(study, late, max_slots=2)  # 2 earlier trials hold both slots
    retry = study.enqueue_trial({}) or study.ask()  # a queued trial always runs
    assert not surplus(study, retry, max_slots=2)
    late.set_user_attr("status", SURPLUS)  # as run_one_trial closes it
    study.tell(late, state=optuna.trial.TrialState.FAIL)
    assert not takes_slot(study.get_trials()[late.number])


class _CtrlCWhileAsking(optuna.samplers.RandomSampler):
    """Delivers a real SIGINT to this process inside ``study.ask()``, after the trial was created."""

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        import signal

        signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("where", ["ask", "surplus"])
def test_ctrl_c_right_after_a_trial_is_created_fails_it_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, where: str
) -> None:
    """A Ctrl-C that lands while the trial is asked, or before it runs, never leaves it RUNNING: a resumed
    run would count it against the budget until its heartbeat went stale (the CLI Ctrl-C test then ended
    with 9 of 10 trials complete)."""
    import signal

    from codesign.search import worker
    from codesign.search.trial import takes_slot

    # Python's own Ctrl-C handler, whatever this process inherited: started in the background from a
    # non-interactive shell (nohup, &), SIGINT is ignored and the held-back signal is rightly dropped.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    sampler = _CtrlCWhileAsking() if where == "ask" else None
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="s", sampler=sampler)
    if where == "surplus":

        def interrupted(*_: object) -> bool:
            raise KeyboardInterrupt

        monkeypatch.setattr(worker, "surplus", interrupted)
    with pytest.raises(KeyboardInterrupt):
        worker.run_one_trial(study, ctx=None, max_slots=3)  # type: ignore[arg-type]  # never reached
    (trial,) = study.get_trials()
    assert trial.state.name == "FAIL" and trial.user_attrs["reason"] == worker.INTERRUPTED
    assert not takes_slot(trial)

"""Small sweeps for the tests: a tiny 4-bit MLP on digits, 1 epoch, a few trials per cell."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from codesign.sweep import sweep_from_dict

TINY = {
    "name": "tiny",
    "dataset": "digits",
    "space": {"kind": "mlp", "hidden": [1, 1], "units": [8, 16, 32, 64], "weight_bits": [3, 4], "act_bits": [4, 4]},
    "parts": ["xc7z020"],
    "training": {"epochs": 1, "batch_size": 256},
    "search": {"trials": 2, "sampler": "random"},
    "heartbeat": {"interval_s": 1, "grace_s": 4, "max_retry": 2},
}


def tiny_sweep(name: str, matrix: dict[str, list[Any]], trials: int = 2) -> Any:
    return sweep_from_dict({**TINY, "name": name, "search": {"trials": trials, "sampler": "random"}, "matrix": matrix})


def start_worker(storage: str, name: str, out: Path, index: int) -> subprocess.Popen:
    """A ``codesign worker`` process (what another machine runs), logging into ``out/worker.log``."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CODESIGN_SWEEP_STORAGE": storage, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "codesign.sweep._child", name, str(out), str(index), ""]
    log = (out / "worker.log").open("w")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def worker_id(proc: subprocess.Popen) -> str:
    return f"{socket.gethostname()}:{proc.pid}"


def running_trial_of(studies: list[Any], worker: str) -> tuple[Any, Any] | None:
    """``(study, trial)`` of a RUNNING trial that ``worker`` has started (its record is written)."""
    for study in studies:
        for t in study.get_trials(deepcopy=False):
            if t.state.name == "RUNNING" and t.user_attrs.get("worker") == worker and "arch" in t.user_attrs:
                return study, t
    return None


def kill_mid_trial(proc: subprocess.Popen, studies: list[Any], timeout_s: float = 300.0) -> tuple[Any, int]:
    """SIGKILL ``proc`` while one of its trials is RUNNING, deterministically: wait until the storage shows
    such a trial, freeze the process (SIGSTOP), check the trial is still running, then kill it.
    Returns the study and the killed trial's number."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        assert proc.poll() is None, "the victim exited before it could be killed"
        found = running_trial_of(studies, worker_id(proc))
        if found is not None:
            os.kill(proc.pid, signal.SIGSTOP)
            study, trial = found
            if study.get_trials(deepcopy=False)[trial.number].state.name == "RUNNING":
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return study, trial.number
            os.kill(proc.pid, signal.SIGCONT)  # it finished meanwhile: catch its next trial
        time.sleep(0.05)
    raise AssertionError("no running trial of the victim was seen")

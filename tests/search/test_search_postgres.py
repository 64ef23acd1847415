"""Distributed search: two worker processes share one study through a real PostgreSQL server.

Needs ``CODESIGN_TEST_POSTGRES_URL`` (``eval "$(bash scripts/ci_postgres.sh)"`` starts a server).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

URL = os.environ.get("CODESIGN_TEST_POSTGRES_URL")
if not URL and os.environ.get("CODESIGN_REQUIRE_POSTGRES"):  # CI (.ci/run) must not skip the distributed path
    raise RuntimeError("CODESIGN_REQUIRE_POSTGRES is set but CODESIGN_TEST_POSTGRES_URL is not; see ci_postgres.sh")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not URL, reason="CODESIGN_TEST_POSTGRES_URL is not set (see scripts/ci_postgres.sh)"),
]
WORKER = """
import sys
from codesign.search import search
from search_graphs import mlp_graph
search(
    space={"width": [4, 8, 16, 32], "bits": [3, 4, 8], "depth": (1, 2)},
    cost=lambda a: mlp_graph(tuple([a["width"]] * a["depth"]) + (10,), n_in=16, weight_bits=a["bits"]),
    evaluate=lambda a: 0.5 + 0.01 * a["width"] + 0.05 * a["depth"] + 0.01 * a["bits"],
    trials=10, storage=sys.argv[1], name=sys.argv[2], seed=int(sys.argv[3]),
)
"""


def test_two_workers_share_one_study(tmp_path) -> None:
    import optuna

    name = f"shared-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, URL, name, str(seed)], env=env, stderr=subprocess.PIPE)
        for seed in (1, 2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
    study = optuna.load_study(study_name=name, storage=URL)
    trials = study.get_trials()
    finished = [t for t in trials if t.state.is_finished()]
    assert 10 <= len(finished) <= 11  # both workers may start a trial when one slot is left
    workers = {t.user_attrs["worker"].split(":")[1] for t in finished}
    assert len(workers) == 2, "both processes should have run trials"
    assert study.user_attrs["config_fingerprint"]
    optuna.delete_study(study_name=name, storage=URL)

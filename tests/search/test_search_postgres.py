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


OPENER = """
import sys, time
from codesign.search.storage import open_storage
import optuna
start_at = float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
storage = open_storage(sys.argv[1])
optuna.create_study(storage=storage, study_name=sys.argv[3], load_if_exists=True)
"""


def test_workers_started_together_on_a_fresh_database_all_open_it() -> None:
    """Four workers opening a database without Optuna's tables at the same instant all start (CI saw one fail)."""
    import time

    import sqlalchemy

    base, _, _ = URL.rpartition("/")
    db = f"codesign_race_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(URL, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f"CREATE DATABASE {db}"))
    try:
        start_at = time.time() + 4.0  # after every interpreter has imported optuna and sqlalchemy
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, f"{base}/{db}", str(start_at), "race"], stderr=subprocess.PIPE
            )
            for _ in range(4)
        ]
        errors = [proc.communicate(timeout=120)[1].decode()[-1500:] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 4, "\n".join(errors)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        admin.dispose()

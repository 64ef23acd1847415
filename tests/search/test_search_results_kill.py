"""A kill while results are written never leaves a half-written designs.csv, pareto.csv or report.html."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys

from test_search_driver import Evaluator, graph_of, plan

from codesign.search import FunctionProblem, run_search
from codesign.search.results import designs_table, open_run

#: Rewrites the run's results in a loop, printing a line after each complete write.
REWRITE = """
import sys
from codesign.search.results import open_run, write_results
view = open_run(sys.argv[1])
while True:
    write_results(sys.argv[1], view.study)
    print("written", flush=True)
"""


def test_killing_a_results_writer_leaves_whole_files(tmp_path) -> None:
    from test_search_driver import SPACE

    run_search(FunctionProblem(SPACE, graph_of, Evaluator()), plan(trials=6), tmp_path, progress=False)
    expected = len(designs_table(open_run(tmp_path)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    for writes in (1, 2, 3):  # kill at different points of the loop; every outcome must be whole files
        proc = subprocess.Popen([sys.executable, "-c", REWRITE, str(tmp_path)], env=env, stdout=subprocess.PIPE)
        for _ in range(writes):
            assert proc.stdout.readline() == b"written\n"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with (tmp_path / "designs.csv").open() as handle:
            assert len(list(csv.DictReader(handle))) == expected
        with (tmp_path / "pareto.csv").open() as handle:
            rows = list(csv.DictReader(handle))
            assert rows and all(r["pareto"] == "True" for r in rows)
        assert (tmp_path / "report.html").read_text().rstrip().endswith("</html>")

"""A local worker process of :func:`codesign.sweep.runner.run_sweep` (its log is ``<sweep>/logs/worker-<i>.log``)."""

from __future__ import annotations

import logging
import os
import sys
import traceback

from codesign.sweep.runner import STORAGE_ENV, run_worker
from hw_templates.errors import CodesignError


def _child_main(argv: list[str]) -> int:
    """Entry point: ``python -m codesign.sweep._child NAME OUT INDEX [ARTIFACTS]`` (storage URL in the environment)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    name, out, index, artifacts = argv[0], argv[1], int(argv[2]), (argv[3] if len(argv) > 3 else "") or None
    try:
        ran = run_worker(os.environ[STORAGE_ENV], out, sweep_name=name, index=index, artifacts=artifacts)
    except CodesignError as err:
        print(f"worker {index}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"worker {index}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a trial raised an unexpected error (recorded as failed): stop, exit 1
        traceback.print_exc()
        print(f"worker {index}: stopped by an unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(f"worker {index}: done, {ran} trials")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))

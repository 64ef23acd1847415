"""One worker's ask-run-tell loop on a shared study: the trial budget, heartbeats and the failure policy.

Any number of workers (processes, machines) may run this loop on one study; they share nothing but
the storage. Rules:

* **Budget.** A study's ``trials`` slots are taken by trials that completed, trials that failed for a
  reason of their own (a :class:`~hw_templates.errors.CodesignError`: a bad design, a failed export),
  and trials running or waiting to be retried. Trials interrupted by Ctrl-C and trials of workers that
  died take no slot, so a study always ends with its requested number of finished trials.
* **Dead workers.** Before every trial the worker fails the trials whose heartbeat went stale and
  queues their retries (:mod:`codesign.search.storage`); ``study.ask()`` runs a queued retry first.
* **Errors.** A ``CodesignError`` (or an exception type the plan's ``catch`` lists, as Optuna's
  ``study.optimize(catch=...)``) fails the trial with its reason and the loop goes on. Any other
  exception fails the trial, then stops the worker with :class:`~hw_templates.errors.WorkerError`
  (exit code 1): a bug should not burn the whole budget on failing trials.
* **Same architecture twice.** A trial whose architecture another live trial is already training
  waits for that training and reuses its accuracy (status ``duplicate``), so concurrent workers never
  train one architecture twice.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

from codesign.search.formulation import CONSTRAINT_KEY
from codesign.search.storage import HeartbeatThread, fail_stale
from codesign.search.trial import Archive, Outcome, TrialContext, run_trial
from hw_templates.errors import CodesignError, WorkerError

__all__ = ["INTERRUPTED", "budget_state", "peer_accuracy", "run_one_trial", "work"]

logger = logging.getLogger(__name__)
INTERRUPTED = "interrupted"
#: Seconds between two looks at a peer trial that trains the architecture this trial wants.
PEER_POLL_S = 0.5


def _counts(trial: Any) -> bool:
    """Does a finished trial take a budget slot? (see the module docstring)."""
    import optuna

    if trial.state == optuna.trial.TrialState.COMPLETE:
        return True
    attrs = trial.user_attrs
    return (
        trial.state == optuna.trial.TrialState.FAIL
        and attrs.get("status") == "failed"
        and (attrs.get("reason") != INTERRUPTED)
    )


def budget_state(trials: list[Any]) -> tuple[int, int, int]:
    """``(finished, running, waiting)``: trials that took a slot and ended, run now, wait for a retry."""
    import optuna

    state = optuna.trial.TrialState
    finished = sum(1 for t in trials if t.state.is_finished() and _counts(t))
    running = sum(1 for t in trials if t.state == state.RUNNING)
    waiting = sum(1 for t in trials if t.state == state.WAITING)
    return finished, running, waiting


def _open(trials: list[Any], budget: int) -> bool:
    finished, running, waiting = budget_state(trials)
    return waiting > 0 or finished + running < budget


def _tell(study: Any, trial: Any, outcome: Outcome) -> None:
    import optuna

    # "status" last: a trial interrupted while its attributes are written never claims a finished
    # training without its accuracy (readers also skip trials that are not COMPLETE)
    try:
        for key, value in sorted(outcome.attrs.items(), key=lambda item: item[0] == "status"):
            trial.set_user_attr(key, value)
        trial.set_user_attr("trained", outcome.trained)
        if outcome.state == "complete":
            trial.set_constraint(CONSTRAINT_KEY, float(outcome.constraint))
            study.tell(trial, outcome.values)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        # this worker was silent longer than the grace period (suspended?) and a peer failed the trial
        # and queued its retry: the retry takes the slot, this result is dropped
        logger.warning("trial %d was failed by a peer while it ran (heartbeat too late); its retry redoes it",
                       trial.number)  # fmt: skip


def run_one_trial(study: Any, ctx: TrialContext, catch: tuple[type[BaseException], ...] = ()) -> Outcome:
    """Ask, run and tell one trial under the failure policy of the module docstring.

    Raises:
        WorkerError: the trial raised an exception that is neither a CodesignError nor in ``catch``.
        KeyboardInterrupt: after recording the trial as failed with reason ``interrupted``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        trial = study.ask()
    cpu = time.process_time()
    with HeartbeatThread(study._storage, trial._trial_id):
        try:
            outcome = run_trial(ctx, trial, trial.set_user_attr)
        except KeyboardInterrupt:
            _tell(study, trial, Outcome("fail", attrs={"status": "failed", "reason": INTERRUPTED}))
            raise
        except (CodesignError, *catch) as err:
            logger.warning("trial %d failed: %s", trial.number, err)
            outcome = Outcome("fail", attrs={"status": "failed", "reason": _reason(err)})
        except Exception as err:
            reason = _reason(err)
            _tell(study, trial, Outcome("fail", attrs={"status": "failed", "reason": reason}))
            raise WorkerError(
                f"trial {trial.number} raised an unexpected {reason}; the worker stopped (a bug in the toolkit "
                "or in your code: rerun with --debug for the traceback; finished trials are kept)"
            ) from err
        outcome.attrs["cpu_seconds"] = round(time.process_time() - cpu, 3)
        _tell(study, trial, outcome)
    return outcome


def _reason(err: BaseException) -> str:
    notes = getattr(err, "__notes__", None)
    return f"{type(err).__name__}: {err}" + (f" ({'; '.join(notes)})" if notes else "")


def work(
    study: Any,
    ctx: TrialContext,
    budget: int,
    *,
    deadline: float = float("inf"),
    catch: tuple[type[BaseException], ...] = (),
    on_trial: Callable[[list[Any], Outcome, float], None] | None = None,
) -> None:
    """Run trials on ``study`` until its budget is taken (by this and every other worker) or time is up.

    Args:
        study: the shared study.
        ctx: the trial context (problem, formulation, hardware space, run folder).
        budget: the study's number of trials.
        deadline: ``time.monotonic()`` value after which no trial starts.
        catch: exception types that fail a trial without stopping the worker (besides CodesignError).
        on_trial: called after each trial with the study's trials, the outcome and the trial's seconds.
    """
    ctx.peer_accuracy = lambda key, number: peer_accuracy(study, key, number)
    fail_stale(study)
    trials = study.get_trials(deepcopy=False)
    while _open(trials, budget) and time.monotonic() < deadline:
        ctx.archive = Archive.from_trials(trials, ctx.formulation, ctx.space)
        start = time.perf_counter()
        outcome = run_one_trial(study, ctx, catch)
        seconds = time.perf_counter() - start
        fail_stale(study)
        trials = study.get_trials(deepcopy=False)
        if on_trial is not None:
            on_trial(trials, outcome, seconds)


def peer_accuracy(study: Any, key: str, number: int, poll_s: float = PEER_POLL_S) -> float | None:
    """The accuracy of architecture ``key`` trained by another trial, waiting while an earlier live trial
    trains it; None when nobody has it (then this trial trains it)."""
    import optuna

    state = optuna.trial.TrialState
    while True:
        same = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("arch_key") == key]
        for t in same:
            if t.state == state.COMPLETE and t.user_attrs.get("status") in ("trained", "stopped"):
                return float(t.user_attrs["accuracy"])
        if not any(t.state == state.RUNNING and t.number < number for t in same):
            return None
        time.sleep(poll_s)
        fail_stale(study)  # the peer may have died: then its trial fails and this one trains

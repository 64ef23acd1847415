"""One worker's ask-run-tell loop on a shared study: the trial budget, heartbeats and the failure policy.

Any number of workers (processes, machines) may run this loop on one study; they share nothing but
the storage. Rules:

* **Budget.** A study's ``trials`` slots are taken by trials that completed, trials that failed for a
  reason of their own (a :class:`~hw_templates.errors.CodesignError`: a bad design, a failed export),
  and trials running or waiting to be retried. Trials interrupted by Ctrl-C and trials of workers that
  died take no slot, so a study always ends with its requested number of finished trials; a trial
  asked beyond the budget by a worker racing its peers stands down (:func:`surplus`).
* **Dead workers.** Before every trial the worker fails the trials whose heartbeat went stale and
  queues their retries (:mod:`codesign.search.storage`); ``study.ask()`` runs a queued retry first.
* **Errors** (Optuna's ``study.optimize(catch=...)`` semantics, with ``ctx.catch``). A
  ``CodesignError`` of the toolkit (a bad design, a failed training or export) fails the trial with
  its reason and the loop goes on; so does an error whose type ``catch`` lists (for a user callback,
  its own error, which :func:`~codesign.search.problem.safe_call` wraps in a ``CallbackError``). Any
  other error fails the trial, then stops the worker and is re-raised (the CLI prints one line and exits
  with code 1): a bug should not burn the whole budget on failing trials. ``catch=None`` (the library
  driver's default) fails the trial only, whatever the error.
* **Same architecture twice.** A trial whose architecture another live trial is already training
  waits for that training and reuses its accuracy (status ``duplicate``), so concurrent workers never
  train one architecture twice.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from codesign.footprint import peak_rss_mb
from codesign.search.formulation import constraint_attrs
from codesign.search.storage import HeartbeatThread, fail_stale
from codesign.search.trial import Archive, Outcome, TrialContext, run_trial, takes_slot
from hw_templates.errors import CallbackError, CodesignError

__all__ = [
    "EXHAUSTED_AFTER",
    "INTERRUPTED",
    "SURPLUS",
    "budget_state",
    "more_trials",
    "peer_accuracy",
    "run_one_trial",
    "surplus",
    "work",
]

logger = logging.getLogger(__name__)
INTERRUPTED = "interrupted"
#: Status of a trial asked beyond the trial budget by a worker racing its peers (takes no slot).
SURPLUS = "surplus"
#: Trials in a row without an evaluation after which a run with an evaluation budget ends (space used up).
EXHAUSTED_AFTER = 500
#: Seconds between two looks at a peer trial that trains the architecture this trial wants.
PEER_POLL_S = 0.5


def budget_state(trials: list[Any]) -> tuple[int, int, int]:
    """``(finished, running, waiting)``: trials that took a slot and ended, run now, wait for a retry."""
    finished = sum(1 for t in trials if t.state.is_finished() and takes_slot(t))
    running = sum(1 for t in trials if t.state.name == "RUNNING")
    waiting = sum(1 for t in trials if t.state.name == "WAITING")
    return finished, running, waiting


def more_trials(archive: Archive, plan: Any, idle: int = 0) -> bool:
    """Should a worker start another trial? A queued retry always runs; then the evaluation budget
    (``plan.evaluations``, with :data:`EXHAUSTED_AFTER`) or the trial budget decides."""
    if archive.waiting:
        return True
    if plan.evaluations:
        max_trials = getattr(plan, "max_trials", None)  # with evaluations: whichever comes first
        capped = max_trials is not None and archive.finished + archive.running >= max_trials
        return archive.trainings < plan.evaluations and idle < EXHAUSTED_AFTER and not capped
    return archive.finished + archive.running < plan.trials


def _tell(study: Any, trial: Any, outcome: Outcome) -> None:
    import optuna

    # "status" last: a trial interrupted while its attributes are written never claims a finished
    # training without its accuracy (readers also skip trials that are not COMPLETE)
    try:
        for key, value in sorted(outcome.attrs.items(), key=lambda item: item[0] == "status"):
            trial.set_user_attr(key, value)
        trial.set_user_attr("trained", outcome.trained or bool(trial.user_attrs.get("trained")))
        if outcome.state in ("complete", "prune"):  # where Optuna's constraints_func writes them
            for key, value in constraint_attrs(outcome.constraint).items():
                study._storage.set_trial_system_attr(trial._trial_id, key, value)
        if outcome.state == "complete":
            study.tell(trial, outcome.values)
        elif outcome.state == "prune":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        # this worker was silent longer than the grace period (suspended?) and a peer failed the trial
        # and queued its retry: the retry takes the slot, this result is dropped
        logger.warning("trial %d was failed by a peer while it ran (heartbeat too late); its retry redoes it",
                       trial.number)  # fmt: skip


def surplus(study: Any, trial: Any, max_slots: int) -> bool:
    """Is ``trial`` (just asked) beyond the trial budget? Two workers that both saw the last slot free ask
    two trials; the storage numbers trials atomically, so the earlier numbers keep the slots and a later
    trial that finds ``max_slots`` earlier trials running, waiting or holding a slot stands down. A queued
    trial (a dead worker's retry, an enqueued one) always runs: it replaces a trial that took no slot."""
    system_attrs = study._storage.get_trial(trial._trial_id).system_attrs
    if "failed_trial" in system_attrs or "fixed_params" in system_attrs:
        return False
    taken = 0
    for t in study.get_trials(deepcopy=False):
        if t.number < trial.number and (t.state.name in ("RUNNING", "WAITING") or takes_slot(t)):
            taken += 1
    return taken >= max_slots


def run_one_trial(study: Any, ctx: TrialContext, max_slots: int | None = None) -> Outcome:
    """Ask, run and tell one trial under the failure policy of the module docstring; with ``max_slots``
    (the trial budget), a trial asked beyond it (see :func:`surplus`) is closed without running.

    A Ctrl-C anywhere after the trial is created (even during ``ask`` or the final ``tell``: SIGINT is held
    back while ``ask`` runs) fails it with reason ``interrupted`` unless it was already told; a trial left
    RUNNING would count against the budget of the resumed run until its heartbeat went stale.

    Raises:
        Exception: the trial's error when it is neither a CodesignError nor in ``ctx.catch`` (a user
            callback's own error, not its CallbackError wrapper), after the trial is recorded as failed.
        KeyboardInterrupt: after recording the trial as failed with reason ``interrupted``.
    """
    trial = None
    try:
        with _sigint_held(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
            trial = study.ask()
        return _run_asked(study, ctx, trial, max_slots)
    except KeyboardInterrupt:
        if trial is not None:
            _tell_interrupted(study, trial)
        raise


def _tell_interrupted(study: Any, trial: Any) -> None:
    """Fail an interrupted trial (unless it was told already). The interrupt may have hit a storage write
    and left the storage's session to roll back: its first call then fails (after rolling back), so the
    bookkeeping is tried twice; a trial still left RUNNING is failed by the next run once its heartbeat is
    stale."""
    error: Exception | None = None
    for _ in range(2):
        try:
            if not study._storage.get_trial(trial._trial_id).state.is_finished():
                _tell(study, trial, Outcome("fail", attrs={"status": "failed", "reason": INTERRUPTED}))
            return
        except Exception as err:  # the storage refused (see above); never hide the Ctrl-C behind it
            error = err
    logger.warning("trial %d could not be recorded as interrupted: %s", trial.number, error)


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """A Ctrl-C in the block is held back and raised (as the previous handler would) when the block ends.

    A Python-level handler, not a signal mask: the signal may be delivered to any thread that does not
    block it (torch's, the heartbeat's), but Python handlers always run in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, Any]] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(*caught[0])  # the default handler raises KeyboardInterrupt here
        elif caught and previous == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)


def _run_asked(study: Any, ctx: TrialContext, trial: Any, max_slots: int | None) -> Outcome:
    if max_slots is not None and surplus(study, trial, max_slots):
        outcome = Outcome("fail", attrs={"status": SURPLUS, "reason": "the trial budget was taken by peers"})
        _tell(study, trial, outcome)
        return outcome
    cpu = time.process_time()
    with HeartbeatThread(study._storage, trial._trial_id):
        try:
            outcome = run_trial(ctx, trial, trial.set_user_attr)
        except Exception as err:
            outcome = Outcome("fail", attrs={"status": "failed", "reason": _reason(err)})
            stop = _stops(err, ctx.catch)
            if stop is err:
                _tell(study, trial, outcome)
                raise
            if stop is not None:  # a user callback's own error, as Optuna's catch= re-raises it
                _tell(study, trial, outcome)
                raise stop from err
            logger.warning("trial %d failed: %s", trial.number, err)
        outcome.attrs["cpu_seconds"] = round(time.process_time() - cpu, 3)
        outcome.attrs["peak_rss_mb"] = round(peak_rss_mb(), 1)  # this worker process's, for sweep footprints
        _tell(study, trial, outcome)
    return outcome


def _stops(err: Exception, catch: tuple[type[BaseException], ...] | None) -> BaseException | None:
    """The error to stop the worker with, or None when ``err`` only fails its trial (Optuna's ``catch``)."""
    original = err.original if isinstance(err, CallbackError) else err
    if catch is None or isinstance(original, catch):
        return None
    if isinstance(err, CodesignError) and not isinstance(err, CallbackError):
        return None  # the toolkit's own errors (bad design, failed training or export) fail one trial
    return original


def _reason(err: BaseException) -> str:
    return str(err) if isinstance(err, CallbackError) else f"{type(err).__name__}: {err}"


def work(
    study: Any,
    ctx: TrialContext,
    plan: Any,
    *,
    deadline: float = float("inf"),
    on_trial: Callable[[Outcome, float], None] | None = None,
) -> int:
    """Run trials on ``study`` until its budget is taken (by this and every other worker) or time is up.

    Args:
        study: the shared study.
        ctx: the trial context (problem, formulation, hardware space, run folder, ``catch``); its
            ``archive`` is kept up to date.
        plan: the run plan (``trials``, ``evaluations``).
        deadline: ``time.monotonic()`` value after which no trial starts.
        on_trial: called after each trial with its outcome and seconds (ask included).

    Returns:
        How many trials in a row at the end evaluated nothing (see :data:`EXHAUSTED_AFTER`).
    """
    ctx.peer_accuracy = lambda key, number: peer_accuracy(study, key, number)
    fail_stale(study)
    archive = ctx.archive
    archive.update(study.get_trials(deepcopy=False), ctx.formulation, ctx.space)
    idle = 0
    while more_trials(archive, plan, idle) and time.monotonic() < deadline:
        start = time.perf_counter()  # the sampler's proposal (inside ask) is overhead too
        outcome = run_one_trial(study, ctx, None if plan.evaluations else plan.trials)
        seconds = time.perf_counter() - start
        idle = 0 if outcome.trained else idle + 1
        fail_stale(study)
        archive.update(study.get_trials(deepcopy=False), ctx.formulation, ctx.space)
        if on_trial is not None:
            on_trial(outcome, seconds)
    return idle


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

"""Where studies live, and how workers that die are noticed: Optuna's RDB storage with heartbeats.

Every SQLite or PostgreSQL storage the toolkit opens records a *heartbeat* for each running trial
(every ``interval_s`` seconds, from a thread of the worker that runs it). A trial whose heartbeat is
older than ``grace_s`` belongs to a worker that died (SIGKILL, power loss, a lost network): any live
worker fails it with Optuna's ``fail_stale_trials`` and Optuna's ``RetryHeartbeatStaleTrialCallback``
queues a copy (same parameters, so the same architecture) as a ``WAITING`` trial, which the next
``study.ask()`` of any worker runs; a trial is retried at most ``max_retry`` times. A live trial is
never failed by another process: only a stale heartbeat marks a trial dead (the toolkit used to fail
every RUNNING trial of the run's SQLite file at start-up, which killed a second process's live trial).

The grace period must be longer than any pause of a live worker (a busy machine, a long GIL-holding
call); the defaults (10 s heartbeat, 60 s grace) leave ample margin. The time from a worker's death
to its trial's retry is at most ``grace_s`` plus one poll of a live worker
(``scripts/bench_sweep.py`` measures it).
"""

from __future__ import annotations

import logging
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.search.run_folder import check_sqlite_file
from hw_templates.errors import SearchError, SpecError, bad_value, clip, first_line

__all__ = [
    "HeartbeatSettings",
    "HeartbeatThread",
    "default_storage",
    "fail_stale",
    "open_storage",
    "shown_url",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeartbeatSettings:
    """How often a running trial says it is alive, and how long silence means its worker is dead.

    Attributes:
        interval_s: seconds between two heartbeats of a running trial.
        grace_s: seconds without a heartbeat after which the trial is failed and retried.
        max_retry: how many times one trial is retried after its worker died (then it is left failed
            and a fresh trial takes its budget slot).
    """

    interval_s: int = 10
    grace_s: int = 60
    max_retry: int = 2

    def __post_init__(self) -> None:
        for name in ("interval_s", "grace_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(bad_value(f"heartbeat.{name}", value, "a whole number of seconds >= 1"))
        if self.grace_s <= self.interval_s:
            raise SpecError(
                bad_value("heartbeat.grace_s", self.grace_s, f"more than heartbeat.interval_s ({self.interval_s})")
            )
        if isinstance(self.max_retry, bool) or not isinstance(self.max_retry, int) or self.max_retry < 0:
            raise SpecError(bad_value("heartbeat.max_retry", self.max_retry, "an integer >= 0"))


def default_storage(run_dir: Path) -> str:
    """``sqlite:///<run_dir>/study.db``."""
    return f"sqlite:///{(Path(run_dir) / 'study.db').resolve()}"


def shown_url(url: str) -> str:
    """The URL without its password (safe to print and to write into files)."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    user, _, host = rest.rpartition("@")
    return f"{scheme}://{user.split(':', 1)[0]}:***@{host}" if ":" in user else url


def open_storage(url: Any, heartbeat: HeartbeatSettings | None = None, must_exist: bool = False) -> Any:
    """An Optuna storage from a URL (in memory for None), with heartbeats and bounded retry of stale trials.

    A ``sqlite:///`` file that exists must be an SQLite database; with ``must_exist`` it must exist (an
    existing run's study is never silently replaced by a new empty one).

    Raises:
        SearchError: the URL does not open (bad scheme, missing driver, unreachable server), one line.
    """
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    if url is None:
        return optuna.storages.InMemoryStorage()
    if not isinstance(url, str):
        return url  # already a storage object
    check_sqlite_file(url, must_exist)
    hb = heartbeat or HeartbeatSettings()
    # SQLite: several local processes share the file; wait for a lock instead of failing at once
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings(), _schema_lock(url, engine):
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine,
                heartbeat_interval=hb.interval_s,
                grace_period=hb.grace_s,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(hb.max_retry),
            )
    except (ImportError, ValueError, RuntimeError, OSError, SQLAlchemyError) as err:  # URL, driver, server
        reason = clip(first_line(err, type(err).__name__), 200)
        raise SearchError(
            f"--storage: expected an Optuna storage URL that opens, got {clip(shown_url(url))!r} ({reason})"
        ) from None


# One PostgreSQL advisory-lock key for "Optuna's tables are being created" (any fixed 64-bit number works;
# every process of the toolkit must use the same one).
_SCHEMA_LOCK_KEY = zlib.crc32(b"codesign: optuna schema creation")


@contextmanager
def _schema_lock(url: str, engine_kwargs: dict[str, Any]) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock while Optuna creates (or checks) its tables.

    Workers started together on a fresh database otherwise race in Optuna's ``create_all`` and its version
    row: PostgreSQL's catalogue refuses the second ``CREATE TABLE`` of the same name with a unique violation
    on ``pg_type`` (seen with two workers on CI), which failed that worker at start-up. The lock is a
    session lock (``pg_advisory_lock``): released when its connection closes, even if this process dies.
    Other databases need no lock (SQLite serialises writers with its file lock).
    """
    if not url.startswith("postgresql"):
        yield
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool, **engine_kwargs)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK_KEY})
    finally:
        engine.dispose()


def fail_stale(study: Any) -> None:
    """Fail the trials of dead workers (stale heartbeat) and queue their retries; no-op without heartbeats."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class HeartbeatThread:
    """Record a trial's heartbeat every ``interval`` seconds while the ``with`` block runs.

    Optuna beats only inside ``study.optimize``; the toolkit's driver asks and tells trials itself, so it
    beats with this thread (a no-op for storages without heartbeats).
    """

    def __init__(self, storage: Any, trial_id: int) -> None:
        interval = storage.get_heartbeat_interval() if hasattr(storage, "get_heartbeat_interval") else None
        self._storage, self._trial_id, self._interval = storage, trial_id, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HeartbeatThread:
        if self._interval:
            self._storage.record_heartbeat(self._trial_id)  # at once: a peer must never see a silent trial
            self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{self._trial_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception as err:  # a lost connection must not kill the trial; the next beat retries
                logger.warning("heartbeat of trial %d not recorded: %s", self._trial_id, err)

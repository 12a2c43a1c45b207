"""The pool of webuis on Dask: one request per webui at a time, held by **leases** that the Dask
scheduler takes back when the worker holding one dies.

Each webui ``i`` of a pool named ``P`` has

* a lock ``P-s<i>``: a ``distributed.Semaphore`` with one lease. A task holds it for the length of
  its one HTTP request, so no webui ever has two requests at once;
* a state ``P-s<i>``: a ``distributed.Variable`` ``{"fails": consecutive failures, "dropped": why or
  None}``, written only by the lock's holder;

and the pool has ``P-slots``, a Semaphore with as many leases as webuis: a task waits for a slot
(blocking on the scheduler, no polling) and then takes the first free webui's lock (a try without
waiting), so a fast webui, free sooner, is taken more often. Nobody holds more webui locks than slots.

**Leases** are Dask's: the holder's worker refreshes them every ``lease-timeout / 5``; a lease not
refreshed for ``distributed.scheduler.locks.lease-timeout`` (default 30 s) is released by the
scheduler (checked every ``lease-validation-interval``, default 10 s). So a worker killed mid-request
gives its webui back to the pool after about that long, and Dask reruns its task elsewhere. Set the
timeout above the longest time a worker's event loop can stall (a lease that times out while its
holder lives would let a second request in); it is read where the pool is made (``run``'s machine).

A failure (HTTP 5xx, no answer, no connection, an answer without images) raises the webui's count;
at ``drop_after`` in a row it is marked dropped, for the rest of the run, with the reason; a success
sets the count back to 0; a 4xx answer (the request's own fault) leaves it. When every webui is
dropped, :meth:`ServerPool.acquire` raises :class:`NoServerLeft`.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from .errors import SceneImportError

__all__ = ["Lease", "NoServerLeft", "PoolSpec", "ServerPool", "close_pool", "open_pool"]

POLL = 0.05  # seconds between rounds when every free webui is one to avoid (or dropped)


class NoServerLeft(SceneImportError):
    """Every webui of the pool was dropped."""


@dataclass(frozen=True)
class PoolSpec:
    """What a worker needs to find the pool (shipped with every task)."""

    name: str
    urls: tuple[str, ...]

    def lock(self, i: int) -> str:
        return f"{self.name}-s{i}"

    @property
    def slots(self) -> str:
        return f"{self.name}-slots"


@dataclass(frozen=True)
class Lease:
    """A held webui: its index in the pool, its url and its consecutive failures so far."""

    index: int
    url: str
    fails: int


def _fresh() -> dict[str, Any]:
    return {"fails": 0, "dropped": None}


def open_pool(client: Any, urls: tuple[str, ...], name: str) -> PoolSpec:
    """Make the pool's semaphores and states on ``client``'s scheduler (the lease timeout is the one
    configured here)."""
    from distributed import Semaphore, Variable

    spec = PoolSpec(name, urls)
    Semaphore(max_leases=len(urls), name=spec.slots).register()
    for i in range(len(urls)):
        Semaphore(max_leases=1, name=spec.lock(i)).register()
        Variable(spec.lock(i), client=client).set(_fresh())
    return spec


def close_pool(client: Any, spec: PoolSpec) -> None:
    """Forget the pool on the scheduler (a long-lived one keeps nothing of a finished job)."""
    from distributed import Variable

    names = [spec.slots, *(spec.lock(i) for i in range(len(spec.urls)))]
    for name in names:
        try:
            client.sync(client.scheduler.semaphore_close, name=name)
        except Exception:  # the scheduler is going away with the job anyway
            pass
    for i in range(len(spec.urls)):
        try:
            Variable(spec.lock(i), client=client).delete()
        except Exception:  # likewise
            pass


_POOLS: dict[str, ServerPool] = {}
_POOLS_LOCK = threading.Lock()


class ServerPool:
    """A worker's handle on the pool (one per worker process and pool: :meth:`of`)."""

    def __init__(self, spec: PoolSpec) -> None:
        from distributed import Semaphore, Variable

        self.spec = spec
        self.slots = Semaphore(max_leases=len(spec.urls), name=spec.slots)
        self.locks = [Semaphore(max_leases=1, name=spec.lock(i)) for i in range(len(spec.urls))]
        self.states = [Variable(spec.lock(i)) for i in range(len(spec.urls))]
        self.dropped: set[int] = set()  # seen dropped (never undone)
        self.start = random.randrange(len(spec.urls))  # this worker's first choice among free ones

    @classmethod
    def of(cls, spec: PoolSpec) -> ServerPool:
        with _POOLS_LOCK:
            pool = _POOLS.get(spec.name)
            if pool is None:
                pool = _POOLS[spec.name] = cls(spec)
            return pool

    def acquire(self, avoid: set[str]) -> Lease:
        """Hold a free webui, preferring one not in ``avoid`` (those this task already failed on):
        while only avoided webuis are free, wait a little (one round per webui) for another."""
        rounds = 0
        while True:
            self.slots.acquire()
            try:
                lease = self._take(avoid if rounds < len(self.spec.urls) else set())
            except BaseException:
                self.slots.release()
                raise
            if lease is not None:
                return lease
            self.slots.release()
            if len(self.dropped) == len(self.spec.urls):
                raise NoServerLeft("every webui was dropped after repeated failures")
            rounds += 1
            time.sleep(POLL)

    def _take(self, avoid: set[str]) -> Lease | None:
        n = len(self.spec.urls)
        live = [(self.start + k) % n for k in range(n) if (self.start + k) % n not in self.dropped]
        wanted = [i for i in live if self.spec.urls[i] not in avoid] or live
        for i in wanted:
            if not self.locks[i].acquire(timeout=0):
                continue
            state = self.states[i].get()
            if state.get("dropped"):
                self.dropped.add(i)
                self.locks[i].release()
                continue
            return Lease(i, self.spec.urls[i], int(state.get("fails", 0)))
        return None

    def release(self, lease: Lease, outcome: str, problem: str = "", drop_after: int = 3) -> str | None:
        """Give ``lease`` back. ``outcome``: "ok" (count back to 0), "keep" (count unchanged) or
        "fail" (count + 1; at ``drop_after`` the webui is dropped). The drop's reason, or None."""
        why: str | None = None
        try:
            if outcome == "ok" and lease.fails:
                self.states[lease.index].set(_fresh())
            elif outcome == "fail":
                fails = lease.fails + 1
                if fails >= drop_after:
                    why = f"{fails} failures in a row, the last: {problem}"
                    self.dropped.add(lease.index)
                self.states[lease.index].set({"fails": fails, "dropped": why})
        finally:
            self.locks[lease.index].release()
            self.slots.release()
        return why

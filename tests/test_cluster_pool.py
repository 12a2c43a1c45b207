"""The webui pool on Dask (lib_scene/cluster_pool.py), on its own: a faster webui gets more of the
work when tasks queue for the pool, and a webui that keeps failing is dropped with a warning. Each
test sets up the one situation it needs (always a task waiting; one webui only), so its outcome does
not depend on the pool's random first choice or on how fast the machine plans. A real LocalCluster
(threads) and, for the drop, a fake webui on 127.0.0.1 (tests/pool_webui.py). Skipped where Dask is
not installed (the A1111-pins venv)."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections import Counter

import pytest
from pool_webui import FakeWebui
from test_cluster import write_scene

from lib_scene import cluster
from lib_scene.cluster_pool import ServerPool, close_pool, open_pool

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="Dask distributed is not installed"
)


@needs_dask
def test_a_faster_webui_gets_more_of_the_work_while_tasks_wait():
    import distributed

    fast, slow = "http://fast.invalid", "http://slow.invalid"  # never asked: the pool only hands them out
    served: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(pool: ServerPool) -> None:
        try:
            while True:
                lease = pool.acquire(set())
                with lock:
                    done = sum(served.values()) >= 24
                    if not done:
                        served[lease.url] += 1
                if not done and lease.url == slow:
                    time.sleep(0.3)  # a request on the slow webui; the fast one answers at once
                pool.release(lease, "ok")
                if done:
                    return
        except BaseException as exc:  # (reported below)
            errors.append(exc)

    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as lc,
        distributed.Client(lc) as client,
    ):
        spec = open_pool(client, (slow, fast), "test-pool")  # the slow one first in the list
        pool = ServerPool(spec)
        pool.start = 0  # and first in this handle's rotation: it is taken whenever it is free
        # four tasks for two webuis: whenever a webui is given back, a task is waiting for it
        threads = [threading.Thread(target=worker, args=(pool,), daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)  # bounded
        close_pool(client, spec)
    assert not errors and not any(t.is_alive() for t in threads)
    assert sum(served.values()) == 24 and served[fast] > served[slow] > 0, served


@needs_dask
def test_a_webui_that_keeps_failing_is_dropped_with_a_warning(tmp_path, capsys):
    scene = write_scene(tmp_path / "scene", 1, 4)
    broken = FakeWebui(0.0, fail_first=100)
    opts = cluster.ClusterOptions(
        (str(scene),), (broken.url,), str(tmp_path / "out"), retries=0, backoff=0.0, processes=False
    )
    try:
        rc = cluster.run_job(opts, {"long_side": 64})
    finally:
        broken.close()
    text = capsys.readouterr().out
    # one webui, one request at a time, no retries: the first three tasks fail on it in a row, the
    # third drops it, and the fourth finds no webui left
    assert rc == 1 and broken.failures == 3 and not broken.images
    # (the end summary's line: the warning printed as the drop's result comes in is sometimes
    # missing from stdout under load although the drop is recorded; open)
    assert f"  {broken.url}: dropped (3 failures in a row, the last: HTTP 500" in text, text
    assert "4 image(s) failed:" in text and "every webui was dropped after repeated failures" in text

"""Identical results in this process, in 2 local worker processes and on a dask LocalCluster."""
from __future__ import annotations

import pytest

from conftest_tune import clean_env, tune  # noqa: F401

GRID = {"donchian_len": [10, 20], "atr_stop_k": [1.0, 1.5], "atr_trail_k": [2.0, 3.0]}


def _without_paths(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ("csv",)}


def test_two_local_workers_give_the_same_trials_and_oos_as_one(tmp_path, clean_env):
    serial_doc, serial_rows = tune(tmp_path, "--workers", "1", grid=GRID, name="serial.csv")
    pool_doc, pool_rows = tune(tmp_path, "--workers", "2", grid=GRID, name="pool.csv")
    assert len(serial_rows) == 8
    assert pool_rows == serial_rows  # every figure, as text, in the same ranked order
    assert _without_paths(pool_doc) == _without_paths(serial_doc)


def test_a_dask_local_cluster_gives_the_same_trials_and_oos_as_local(tmp_path, clean_env):
    distributed = pytest.importorskip("distributed")
    local_doc, local_rows = tune(tmp_path, grid=GRID, name="local.csv")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        dask_doc, dask_rows = tune(tmp_path, "--dask", cluster.scheduler_address, grid=GRID, name="dask.csv")
        executed = sum(worker.state.executed_count for worker in cluster.workers.values())
        assert executed >= 8  # every trial really ran on the cluster's workers
    assert dask_rows == local_rows
    assert _without_paths(dask_doc) == _without_paths(local_doc)

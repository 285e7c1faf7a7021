"""The bench's own tools: the load generator, the profile summary and the percentile helper."""

from pathlib import Path

import pytest

from bench import payloads, servers
from bench.investigations.profiling import summarise
from bench.loadgen import run_load
from bench.stats import percentile


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_summarise_drops_waits_and_charges_lines() -> None:
    raw = "\n".join(
        [
            "thread (1): MainThread;main (a.py:1);parse (b.py:7);compute_float_64 (simdjson.cpp:9) 3",
            "thread (1): MainThread;main (a.py:1);math (c.py:2) 1",
            "thread (1): MainThread;Runner.run (runners.py:118);epoll_pwait (libc.so.6) 5",
            "thread (2): AnyIO worker thread;wait (t.py:3);PyThread_acquire_lock_timed (libpython) 4",
            "thread (2): AnyIO worker thread;work (w.py:5);take_gil (libpython) 2",
            "thread (1): MainThread;Runner.run (runners.py:118);pthread_cond_timedwait (libc.so.6) 2",
        ]
    )
    summary = summarise(raw)
    assert summary["idle_samples"] == 9
    assert summary["busy_samples"] == 4
    assert summary["gil_wait"] == [("AnyIO worker thread", 0.25), ("MainThread", 0.25)]
    assert summary["threads"] == [("MainThread", 1.0)]
    assert summary["self"] == [("parse (b.py:7)", 0.75), ("math (c.py:2)", 0.25)]
    assert summary["native"] == [("compute_float_64 (simdjson.cpp:9)", 0.75)]
    assert ("main (a.py)", 1.0) in summary["inclusive"]


@pytest.mark.slow
def test_load_generator_counts_answers_and_failures(tmp_path: Path) -> None:
    good = payloads.http_payload(16, 4, "json")
    with servers.running("peer", tmp_path) as peer:
        result = run_load(peer.sparse_url, good.body, 20, 3, cap_s=30)
        assert result.requests == 20
        assert result.failures == {}
        assert len(result.latencies_s) == 20
        assert all(latency > 0 for latency in result.latencies_s)
        bad = run_load(peer.sparse_url, b'{"logits": 1}', 4, 2, cap_s=30)
        assert bad.failures == {422: 4}

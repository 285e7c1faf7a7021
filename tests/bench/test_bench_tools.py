"""The bench's own tools: the load generator, the profile summary and the percentile helper."""

from pathlib import Path

import pytest

from bench import payloads, servers
from bench.loadgen import run_load
from bench.profile_json import summarise
from bench.stats import percentile


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_summarise_collapsed_stacks() -> None:
    raw = "main (a.py:1);parse (b.py:7) 3\nmain (a.py:1);math (c.py:2) 1\n"
    summary = summarise(raw)
    assert summary["samples"] == 4
    assert summary["self"] == [("parse (b.py:7)", 0.75), ("math (c.py:2)", 0.25)]
    assert summary["inclusive"][0] == ("main (a.py)", 1.0)


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

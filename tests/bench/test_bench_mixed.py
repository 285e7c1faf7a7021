"""The responsiveness bench's mixed load against a real server: every request over a limit gets its 413."""

from pathlib import Path

import pytest

from bench import responsiveness, servers


@pytest.mark.slow
def test_the_mixed_load_gets_a_413_for_each_request_over_a_limit(tmp_path: Path) -> None:
    with servers.running("service", tmp_path) as server:
        mixed = responsiveness.poll_during_mixed_load(server, per_connection=1)
    # 16 connections cycling through 5 kinds, one request each: kinds 0 to 15 mod 5.
    answers = {name: kind["answers"] for name, kind in mixed["kinds"].items()}
    assert answers.pop("large") == {"200": 4}
    assert answers.pop("over_inflated") == {"413": 3}
    assert answers.pop("over_elements") == {"413": 3}
    # Refused while the client is still sending: the server may close before the 413 can be read.
    for name, counts in answers.items():
        assert set(counts) <= {"413", "reset"}, name
        assert sum(counts.values()) == 3, name
    assert mixed["requests"] == 16
    assert mixed["healthz"]["polls"] >= 1

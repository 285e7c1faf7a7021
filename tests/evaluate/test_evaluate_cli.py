"""`loss-service evaluate` end to end: files in, summary and JSON out, the 4xx stop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest
from clients.live_server import free_port, running_server
from reference import numpy_reference

from service.evaluate.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main

RNG = np.random.default_rng(11)
LOGITS = RNG.normal(size=(40, 4))
LABELS = RNG.integers(0, 4, size=40)
WEIGHTS = RNG.random(40)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*args, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_npz_to_summary_and_json(live_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.npz"
    np.savez(data, logits=LOGITS, labels=LABELS, sample_weight=WEIGHTS)
    out = tmp_path / "result.json"
    args = [str(data), "--url", live_url + "/", "--chunk-size", "7"]
    code, stdout, _ = _run([*args, "--reduction", "sum_by_nonzero_weights", "-o", str(out)], capsys)
    assert code == EXIT_OK
    reference = numpy_reference.sparse(LOGITS, LABELS, sample_weight=WEIGHTS)
    result = json.loads(out.read_text())
    assert result["loss"] == pytest.approx(reference.loss("sum_by_nonzero_weights"), rel=1e-9)
    for name, value in result["reductions"].items():
        assert value == pytest.approx(reference.loss(name), rel=1e-9)
    assert result["statistics"]["count"] == 40
    assert result["statistics"]["weight_sum"] == pytest.approx(reference.weight_sum, rel=1e-12)
    assert result["requests"]["chunks"] == 6
    assert result["requests"]["answers_per_url"] == {live_url: 6}
    assert "sum_by_nonzero_weights" in stdout
    assert f"{reference.loss('mean'):.10g}" in stdout


@pytest.mark.slow
def test_chunks_are_spread_over_two_replicas(
    live_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.npz"
    np.savez(data, logits=LOGITS, labels=LABELS)
    out = tmp_path / "result.json"
    with running_server() as second:
        args = [str(data), "--url", live_url, "--url", second, "--chunk-size", "5", "-o", str(out)]
        code, _, _ = _run([*args, "--reduction", "sum"], capsys)
    assert code == EXIT_OK
    result = json.loads(out.read_text())
    assert result["requests"]["answers_per_url"] == {live_url: 4, second: 4}
    assert result["loss"] == pytest.approx(numpy_reference.sparse(LOGITS, LABELS).loss_sum, rel=1e-9)


def test_npy_files_with_per_example_losses(
    live_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "logits.npy", LOGITS.astype(np.float32))
    np.save(tmp_path / "labels.npy", LABELS)
    np.save(tmp_path / "weights.npy", WEIGHTS)
    out = tmp_path / "result.json"
    args = [str(tmp_path / "logits.npy"), "--labels", str(tmp_path / "labels.npy")]
    args += ["--sample-weight", str(tmp_path / "weights.npy"), "--url", live_url]
    code, _, _ = _run([*args, "--per-example", "--class-weight", "1,2,0.5,1", "-o", str(out)], capsys)
    assert code == EXIT_OK
    reference = numpy_reference.sparse(
        LOGITS.astype(np.float32), LABELS, sample_weight=WEIGHTS, class_weight=[1, 2, 0.5, 1]
    )
    result = json.loads(out.read_text())
    assert result["statistics"]["precision"] == "float32"  # the Tensor's dtype
    np.testing.assert_allclose(result["losses"], reference.losses, rtol=1e-5, atol=1e-6)
    assert result["loss"] == pytest.approx(reference.loss("mean"), rel=1e-5)


def test_jsonl_probabilities_sent_as_nested_arrays(
    live_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    probabilities = RNG.dirichlet(np.ones(3), size=9)
    targets = RNG.dirichlet(np.ones(3), size=9)
    lines = [
        orjson.dumps({"probabilities": p.tolist(), "labels": t.tolist()})
        for p, t in zip(probabilities, targets, strict=True)
    ]
    data = tmp_path / "data.jsonl"
    data.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "result.json"
    code, _, _ = _run([str(data), "--url", live_url, "--json", "--chunk-size", "4", "-o", str(out)], capsys)
    assert code == EXIT_OK
    result = json.loads(out.read_text())
    assert result["endpoint"] == "categorical"
    expected = numpy_reference.categorical(probabilities, targets, from_logits=False)
    assert result["loss"] == pytest.approx(expected.loss("mean"), rel=1e-9)
    assert result["statistics"]["precision"] == "float64"


def test_a_4xx_stops_with_the_problem_the_chunk_and_its_rows(
    live_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = LABELS.copy()
    labels[23] = 4  # C = 4: out of range, in chunk 2 (rows 20–29)
    data = tmp_path / "bad.npz"
    np.savez(data, logits=LOGITS, labels=labels)
    out = tmp_path / "result.json"
    code, stdout, stderr = _run(
        [str(data), "--url", live_url, "--chunk-size", "10", "--concurrency", "1", "-o", str(out)],
        capsys,
    )
    assert code == EXIT_FAILED
    assert "chunk 2 (rows 20–29)" in stderr
    assert "HTTP 400" in stderr  # the live server speaks V2, the default then: 400 where /v1 says 422
    assert "Received a label value of 4 which is outside the valid range of [0, 4)." in stderr
    assert "(dataset row 23)" in stderr  # the server's index is relative to the chunk
    assert not out.exists()
    assert stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.npz"], "cannot read"),
        (["data.npy"], "needs --labels"),
        (["data.csv"], "unsupported input"),
    ],
)
def test_input_errors_exit_with_usage_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "data.csv").write_text("1,2\n")
    code, _, stderr = _run([str(tmp_path / a) for a in args], capsys)
    assert code == EXIT_USAGE
    assert message in stderr


def test_unreachable_service_gives_up_after_bounded_retries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.npz"
    np.savez(data, logits=LOGITS, labels=LABELS)
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, _, stderr = _run([str(data), "--url", url, "--retries", "2", "--backoff", "0.01"], capsys)
    assert code == EXIT_FAILED
    assert "gave up after 3 attempts" in " ".join(stderr.split())

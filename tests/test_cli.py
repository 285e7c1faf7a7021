"""`loss-service`: --help, --version, serve (also bare), evaluate --help, usage errors that say what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import service
from service import cli, server
from service.config import Settings

LOSS_SERVICE = Path(sys.executable).parent / "loss-service"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = cli.main(list(argv))
    except SystemExit as stop:
        status = int(stop.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replaces the server: records each start instead of binding a port."""
    calls: list[str] = []

    def fake_serve(settings: Settings | None = None) -> int:
        calls.append("serve")
        return 0

    monkeypatch.setattr(server, "serve", fake_serve)
    return calls


def test_help_describes_commands_and_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "serve" in out
    assert "evaluate" in out
    for name in Settings.model_fields:
        assert f"LOSS_SERVICE_{name.upper()}" in out
    assert "LOSS_SERVICE_PORT" in out
    assert "(default 8000)" in out
    assert "/docs" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out == f"loss-service {service.__version__}\n"


@pytest.mark.parametrize("argv", [[], ["serve"]])
def test_bare_command_and_serve_start_the_server(
    capsys: pytest.CaptureFixture[str], served: list[str], argv: list[str]
) -> None:
    status, _, err = run(capsys, *argv)
    assert (status, served, err) == (0, ["serve"], "")


def test_serve_help_lists_the_settings(capsys: pytest.CaptureFixture[str], served: list[str]) -> None:
    status, out, _ = run(capsys, "serve", "--help")
    assert status == 0
    assert served == []
    assert "LOSS_SERVICE_DRAIN_SECONDS" in out


def test_evaluate_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "evaluate", "--help")
    assert status == 0
    assert out.startswith("usage: loss-service evaluate")
    examples = out.split("examples:\n", 1)[1].split("\n\n", 1)[0]
    commands = [line for line in examples.splitlines() if line.strip().startswith("loss-service evaluate ")]
    assert len(commands) == 3


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["srve"], "did you mean: loss-service serve"),
        (["evalute", "data.npz"], "did you mean: loss-service evaluate"),
        (["train"], "commands: serve, evaluate"),
        (["--port", "9000"], "LOSS_SERVICE_PORT=9000 loss-service serve"),
        (["serve", "--max-body-bytes=1048576"], "LOSS_SERVICE_MAX_BODY_BYTES=1048576 loss-service serve"),
        (["serve", "--verbose"], "see: loss-service --help"),
    ],
)
def test_wrong_usage_says_what_to_type(
    capsys: pytest.CaptureFixture[str], served: list[str], argv: list[str], hint: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert served == []
    assert out == ""
    assert err.startswith("usage: loss-service")
    assert hint in err


def test_evaluate_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "evaluate", "--no-such-flag", "data.npz")
    assert status == 2
    assert err.startswith("usage: loss-service evaluate")


def test_console_script() -> None:
    done = subprocess.run([LOSS_SERVICE, "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"loss-service {service.__version__}\n")
    done = subprocess.run([LOSS_SERVICE, "sevre"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "did you mean: loss-service serve" in done.stderr

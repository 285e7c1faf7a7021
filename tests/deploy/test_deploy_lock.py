"""requirements.lock still satisfies pyproject's runtime dependencies (else: run scripts/lock.sh)."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, requires

import pytest
from deploy_support import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# The image the lock is made for (scripts/lock.sh: --python-version 3.12 --python-platform linux).
IMAGE_ENVIRONMENT = {"python_version": "3.12", "sys_platform": "linux", "platform_system": "Linux"}


def locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.M)
    }


def runtime_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(line) for line in pyproject["project"]["dependencies"]]


def extra_requirements(requirement: Requirement) -> list[Requirement]:
    """What the requested extras (e.g. uvicorn[standard]) add, read from installed metadata."""
    try:
        declared = requires(requirement.name) or []
    except PackageNotFoundError:
        pytest.fail(f"{requirement.name} is not installed: cannot read its extras")
    found = []
    for line in declared:
        extra = Requirement(line)
        marker = extra.marker
        if marker is not None and any(
            marker.evaluate({**IMAGE_ENVIRONMENT, "extra": name}) for name in requirement.extras
        ):
            found.append(extra)
    return found


def test_lock_pins_every_runtime_dependency_within_its_range() -> None:
    pins = locked()
    problems = []
    for requirement in runtime_requirements():
        for needed in [requirement, *extra_requirements(requirement)]:
            pinned = pins.get(canonicalize_name(needed.name))
            if pinned is None:
                problems.append(f"{needed.name} is not in requirements.lock")
            elif not needed.specifier.contains(pinned, prereleases=True):
                problems.append(f"{needed.name}=={pinned} does not satisfy {needed}")
    assert not problems, "; ".join(problems) + " — run scripts/lock.sh"


def test_lock_has_a_hash_for_every_pin() -> None:
    entries = re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text())
    pinned = [entry for entry in entries if "==" in entry.split("\n", 1)[0]]
    assert pinned
    assert all("--hash=sha256:" in entry for entry in pinned)

"""The deployment files lint clean and agree with each other and with the service's own settings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import ROOT
from kubernetes_validate.utils import latest_version, validate

from service.api.problems import TITLES, problem_type
from service.config import Settings
from service.server import KEEP_ALIVE_SECONDS, REQUEST_TIMEOUT_SECONDS

DEFAULTS = {name: field.default for name, field in Settings.model_fields.items()}
MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^(\w+)\s+(.*)$", joined, re.M)]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def nginx() -> str:
    return (ROOT / "deploy" / "nginx" / "default.conf").read_text()


def nginx_directive(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", nginx(), re.M)


def nginx_bytes(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kmg]?)", value.strip().lower())
    assert match, f"not an nginx size: {value!r}"
    return int(match[1]) * 1024 ** "_kmg".index(match[2] or "_")


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s?)", value.strip())
    assert match, f"not a duration in seconds: {value!r}"
    return float(match[1])


def manifests() -> dict[str, dict[str, Any]]:
    documents = [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]
    return {doc["kind"]: doc for doc in documents}


def env_of(variables: list[dict[str, str]] | dict[str, str]) -> dict[str, str]:
    if isinstance(variables, dict):
        return {k: str(v) for k, v in variables.items()}
    # Variables from a Secret (`valueFrom`) have no value here.
    return {v["name"]: v["value"] for v in variables if "value" in v}


# --- Dockerfile --------------------------------------------------------------------------------


def test_dockerfile_is_hadolint_clean() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_in_stages_and_runs_one_server_as_non_root() -> None:
    instructions = dockerfile()
    stages = [args for name, args in instructions if name == "FROM"]
    assert len(stages) >= 2
    assert all(stage.split()[0] == "python:3.12-slim" for stage in stages)
    assert any("--require-hashes -r requirements.lock" in args for _, args in instructions)
    user = [args for name, args in instructions if name == "USER"][-1]
    assert user.split(":")[0] not in ("0", "root")
    [cmd] = [args for name, args in instructions if name == "CMD"]
    assert json.loads(cmd) == ["loss-service", "serve"]
    [healthcheck] = [args for name, args in instructions if name == "HEALTHCHECK"]
    assert "/readyz" in healthcheck
    assert not re.search(r"\b(curl|wget)\b", healthcheck)


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {
        source.rstrip("/").removeprefix("./")
        for name, args in dockerfile()
        if name == "COPY" and "--from" not in args
        for source in args.split()[:-1]
    }
    assert copied == allowed
    assert all((ROOT / path).exists() for path in copied)


# --- compose and nginx --------------------------------------------------------------------------


def test_compose_publishes_only_nginx_on_loopback_with_several_replicas() -> None:
    services = compose()["services"]
    published = {name: spec["ports"] for name, spec in services.items() if spec.get("ports")}
    assert list(published) == ["nginx"]
    assert all(str(port).startswith("127.0.0.1:") for port in published["nginx"])
    assert services["loss-service"]["deploy"]["replicas"] >= 2
    assert services["nginx"]["image"] == "nginx:1.27"
    [volume] = services["nginx"]["volumes"]
    source, target, _ = volume.split(":")
    assert (ROOT / source).resolve() == ROOT / "deploy" / "nginx" / "default.conf"
    assert target.startswith("/etc/nginx/conf.d/")


def test_nginx_and_compose_limits_agree_with_the_service() -> None:
    [body_limit] = nginx_directive("client_max_body_size")
    assert nginx_bytes(body_limit) == DEFAULTS["max_body_bytes"]
    service = compose()["services"]["loss-service"]
    environment = env_of(service["environment"])
    assert int(environment["LOSS_SERVICE_MAX_BODY_BYTES"]) == DEFAULTS["max_body_bytes"]
    assert [seconds(v) for v in nginx_directive("proxy_read_timeout")] == [REQUEST_TIMEOUT_SECONDS]
    [keepalive] = nginx_directive("keepalive_timeout")
    assert seconds(keepalive) < KEEP_ALIVE_SECONDS
    drain = float(environment["LOSS_SERVICE_DRAIN_SECONDS"])
    assert seconds(service["stop_grace_period"]) > drain + REQUEST_TIMEOUT_SECONDS


def test_nginx_own_errors_are_problem_json() -> None:
    bodies = re.findall(r"return (\d{3}) '(.*)';", nginx())
    assert {status for status, _ in bodies} == {"413", "503", "504"}
    for status, body in bodies:
        problem = json.loads(re.sub(r"\$\w+", "x", body))
        assert problem["status"] == int(status)
        assert problem["type"] == problem_type(problem["code"])
        assert problem["error_count"] == len(problem["errors"]) == 1
        assert "request_id" in problem
    too_large = json.loads(re.sub(r"\$\w+", "x", dict(bodies)["413"]))
    assert (too_large["code"], too_large["title"]) == ("too_large", TITLES["too_large"][1])
    assert str(DEFAULTS["max_body_bytes"]) in too_large["detail"]


# --- Kubernetes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_manifest_is_valid_kubernetes(path: Path) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        validate(document, latest_version(), strict=True)


def test_manifests_fit_together_and_with_the_image() -> None:
    kinds = manifests()
    assert set(kinds) == {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    deployment = kinds["Deployment"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    for selector in (
        deployment["spec"]["selector"]["matchLabels"],
        kinds["Service"]["spec"]["selector"],
        kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    target = kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2

    [container] = pod["spec"]["containers"]
    [port] = container["ports"]
    assert port["containerPort"] == DEFAULTS["port"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])

    user = [args for name, args in dockerfile() if name == "USER"][-1]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert str(pod["spec"]["securityContext"]["runAsUser"]) == user.split(":")[0]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]

    drain = float(env_of(container["env"])["LOSS_SERVICE_DRAIN_SECONDS"])
    assert pod["spec"]["terminationGracePeriodSeconds"] > drain + REQUEST_TIMEOUT_SECONDS


def test_api_keys_come_from_a_secret_and_the_host_environment() -> None:
    # No key is ever written into a deployment file.
    [container] = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"]
    [keys] = [v for v in container["env"] if v["name"] == "LOSS_SERVICE_API_KEYS"]
    assert keys["valueFrom"]["secretKeyRef"] == {
        "name": "loss-service-api-keys",
        "key": "keys",
        "optional": True,
    }
    environment = compose()["services"]["loss-service"]["environment"]
    assert environment["LOSS_SERVICE_API_KEYS"] == "${LOSS_SERVICE_API_KEYS:-}"


# --- documentation ------------------------------------------------------------------------------


def test_every_setting_is_documented_with_its_default() -> None:
    text = (ROOT / "deploy" / "README.md").read_text()
    rows = re.findall(r"^\| `LOSS_SERVICE_(\w+)` \| `([^`]*)` \|", text, re.M)
    assert {name.lower(): default for name, default in rows} == {
        name: str(default) for name, default in DEFAULTS.items()
    }

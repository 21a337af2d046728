"""The deployment files, checked offline: the image runs as a non-root user with a health check
and installs only hash-checked dependencies; compose migrates once before two replicas start;
the Kubernetes manifests validate against the Kubernetes schema (kubernetes-validate ships it)
and probe /healthz and /readyz; the Grafana dashboard asks only for metrics the bot exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from prometheus_client import generate_latest

from bot.config import Settings
from bot.observability import metrics

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined; comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_builds_from_the_lock_and_runs_unprivileged() -> None:
    steps = dockerfile()
    froms = [args for op, args in steps if op == "FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS build") and "slim" in froms[1]
    runtime = steps[[op for op, _ in steps].index("FROM", 1) :]  # the final stage
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "pip install --require-hashes -r requirements.lock" in runs
    assert "pip install --no-deps ." in runs
    users = [args for op, args in runtime if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert [args for op, args in runtime if op == "COPY"] == ["--from=build /venv /venv"]  # no sources
    [health] = [args for op, args in runtime if op == "HEALTHCHECK"]
    assert "/healthz" in health
    assert [args for op, args in runtime if op == "ENTRYPOINT"] == ['["handoff"]']
    assert [args for op, args in runtime if op == "CMD"] == ['["run"]']
    env = " ".join(args for op, args in runtime if op == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "MPLCONFIGDIR=/tmp" in env  # read-only root


def test_compose_migrates_once_before_two_replicas() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]
    replicas = {
        name: s for name, s in services.items() if s.get("command") is None and name.startswith("handoff")
    }
    assert len(replicas) == 2
    for name, replica in replicas.items():
        assert replica["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}, name
        assert replica["read_only"] is True and "/tmp" in replica["tmpfs"]
        assert replica["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert replica["environment"]["HANDOFF_LOG_FORMAT"] == "json"
    ports = [p for r in replicas.values() for p in r["ports"]]
    assert len(set(ports)) == len(ports)
    # every HANDOFF_* variable compose sets is one the bot reads
    known = {str(f.validation_alias) for f in Settings.model_fields.values()}
    for replica in replicas.values():
        assert set(replica["environment"]) <= known


def k8s_documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


@pytest.mark.parametrize("name_doc", k8s_documents(), ids=lambda nd: f"{nd[0]}:{nd[1]['kind']}")
def test_k8s_manifests_validate_against_the_kubernetes_schema(name_doc: tuple[str, dict[str, Any]]) -> None:
    _, doc = name_doc
    if doc["kind"] == "Kustomization":
        listed = set(doc["resources"])
        assert listed <= {p.name for p in K8S.glob("*.yaml")} and "secret.example.yaml" not in listed
        return
    # strict: unknown fields (a typo such as readinesProbe) fail too
    kubernetes_validate.validate(doc, "1.30", strict=True)


def containers(kind: str) -> list[dict[str, Any]]:
    [doc] = [d for _, d in k8s_documents() if d["kind"] == kind]
    return doc["spec"]["template"]["spec"]["containers"]


def test_k8s_deployment_probes_secrets_and_resources() -> None:
    [bot] = containers("Deployment")
    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = {e["name"]: e for e in bot["env"]}
    for secret in ("DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "handoff"
    assert bot["securityContext"]["readOnlyRootFilesystem"] is True
    # sized from bench/memory.py: peak resident set 103-111 MB (docs/benchmarks.md)
    assert bot["resources"]["requests"]["memory"] == "128Mi"
    assert bot["resources"]["limits"]["memory"] == "256Mi"
    [job] = containers("Job")
    assert job["args"] == ["migrate"] and job["image"] == bot["image"]


def test_grafana_dashboard_asks_only_for_exported_metrics() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "handoff.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    exported = set(re.findall(r"^# TYPE (\S+)", generate_latest(metrics.REGISTRY).decode(), re.M))
    suffixes = ("_total", "_bucket", "_count", "_sum", "")
    used = {name for expr in exprs for name in re.findall(r"\b((?:handoff|process)_[a-z_]+)\b", expr)}
    assert len(used) >= 15
    for name in used:
        assert any(
            name.endswith(s) and name[: len(name) - len(s)] in exported for s in suffixes if s or True
        ), name
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))

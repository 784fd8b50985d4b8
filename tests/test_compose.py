"""The compose stack validates offline with Debian's docker-compose (v1): no engine is needed."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.harness import ROOT


@pytest.fixture(scope="module")
def config() -> dict:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: `make test` installs it (scripts/test_tools.sh)", pytrace=False)
    done = subprocess.run([binary, "config"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_the_stack_has_kafka_kraft_ui_service_and_scalable_workers(config):
    services = config["services"]
    assert set(services) >= {"kafka", "kafka-ui", "service", "worker"}
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert any(str(p.get("published", p)).startswith("8080") or "8080" in str(p) for p in services["kafka-ui"]["ports"])
    assert any("8000" in str(p) for p in services["service"]["ports"])
    assert "ports" not in services["worker"]  # scalable with --scale: no fixed host port
    for name in ("kafka", "service", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("service", "worker"):
        env = services[name]["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert any(v.endswith(":/models") or "/models" in str(v) for v in services[name]["volumes"])


def test_the_image_runs_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER cardiosynth" in dockerfile and "useradd" in dockerfile

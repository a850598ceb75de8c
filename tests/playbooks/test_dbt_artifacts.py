"""Step dbt_artifacts on dbt's recorded artifacts, read from a folder and over HTTP."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.domain.models import Asset, AssetKind
from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import run_step
from tests.playbooks.servers import LocalServer, Reply

FILES = {
    "run_results.json": "dbt_run_results.json",
    "sources.json": "dbt_sources.json",
    "manifest.json": "dbt_manifest_lineage_maps.json",
}


@pytest.fixture
def artifacts_dir(tmp_path: Path, evidence_dir: Path) -> Path:
    for name, recorded in FILES.items():
        shutil.copy(evidence_dir / recorded, tmp_path / name)
    return tmp_path


@pytest.fixture(params=["folder", "http"])
def artifacts(request: pytest.FixtureRequest, artifacts_dir: Path) -> str:
    """Where the step reads the artifacts: the folder, or the same files served over HTTP."""
    if request.param == "folder":
        return str(artifacts_dir)
    server: LocalServer = request.getfixturevalue("http_server")
    for name in FILES:
        server.route(
            "GET", f"/target/{name}", lambda _req, name=name: Reply(200, (artifacts_dir / name).read_bytes())
        )
    return f"{server.url}/target"


def _step(artifacts: str, report: str, node: str | None = None) -> dict[str, object]:
    item = {"tests": "failed_jobs", "freshness": "table_freshness", "lineage": "feature_lineage"}[report]
    step = {
        "id": "dbt",
        "kind": "dbt_artifacts",
        "item": item,
        "artifacts": artifacts,
        "report": report,
        "retries": 0,
    }
    return step | ({"node": node} if node else {})


def _make_healthy(folder: Path) -> None:
    results = json.loads((folder / "run_results.json").read_text())
    for r in results["results"]:
        r["status"] = "pass" if r["unique_id"].startswith("test.") else "success"
    (folder / "run_results.json").write_text(json.dumps(results))
    sources = json.loads((folder / "sources.json").read_text())
    for r in sources["results"]:
        r["status"], r["max_loaded_at_time_ago_in_s"] = "pass", 600.0
    (folder / "sources.json").write_text(json.dumps(sources))


class TestDbtArtifacts:
    async def test_failed_tests(self, artifacts: str, make_ctx: Callable[..., RunContext]) -> None:
        """The two failing tests on stg_users are reported, with the tested model as the asset."""
        result = await run_step(_step(artifacts, "tests"), make_ctx())
        assert result.state is StepState.ANOMALOUS, result.error
        assert result.detail.startswith("2 of 4 tests failed: stg_users failed 2 tests")
        assert "accepted_values_stg_users_country__DE__FR" in result.detail
        assert "unique_stg_users_user_id" in result.detail
        assert result.asset == Asset(kind=AssetKind.TABLE, name="stg_users")

    async def test_stale_source(self, artifacts: str, make_ctx: Callable[..., RunContext]) -> None:
        """The raw_users source past its error_after is stale."""
        result = await run_step(_step(artifacts, "freshness"), make_ctx())
        assert result.state is StepState.ANOMALOUS, result.error
        assert (
            "1 of 1 sources stale: source raw.raw_users stale (error: last loaded 8.7 d ago" in result.detail
        )
        assert "error after 12 hours" in result.detail
        assert result.asset == Asset(kind=AssetKind.TABLE, name="raw_users")

    async def test_lineage_of_features(self, artifacts: str, make_ctx: Callable[..., RunContext]) -> None:
        """user_features <- stg_users <- raw.raw_users: anomalous upstream, the stale source is the asset."""
        result = await run_step(_step(artifacts, "lineage", "user_features"), make_ctx())
        assert result.state is StepState.ANOMALOUS, result.error
        assert result.item_ref == "dataops.feature_lineage"
        assert result.detail.startswith("user_features <- stg_users, raw.raw_users: ")
        assert "stg_users failed 2 tests" in result.detail
        assert "source raw.raw_users stale" in result.detail
        assert result.asset == Asset(kind=AssetKind.TABLE, name="raw_users")
        assert result.metrics["upstream_nodes"] == 2

    async def test_healthy_artifacts_are_ok(
        self, artifacts_dir: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Once tests pass and the source is fresh, all three reports are ok."""
        _make_healthy(artifacts_dir)
        for report, node in (("tests", None), ("freshness", None), ("lineage", "user_features")):
            result = await run_step(_step(str(artifacts_dir), report, node), make_ctx())
            assert result.state is StepState.OK, (report, result.detail, result.error)

    async def test_unknown_node_fails(self, artifacts_dir: Path, make_ctx: Callable[..., RunContext]) -> None:
        """A node the manifest does not have fails the step, naming it."""
        result = await run_step(_step(str(artifacts_dir), "lineage", "no_such_model"), make_ctx())
        assert result.state is StepState.FAILED
        assert "no_such_model is not a node of the dbt manifest" in (result.error or "")

    async def test_missing_artifacts_fail(self, tmp_path: Path, make_ctx: Callable[..., RunContext]) -> None:
        """No run_results.json in the folder: failed, saying which file."""
        result = await run_step(_step(str(tmp_path), "tests"), make_ctx())
        assert result.state is StepState.FAILED
        assert "run_results.json not found" in (result.error or "")

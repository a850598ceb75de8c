"""Step mlflow_model_version against a real MLflow registry whose alias the test moves."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from bot.domain.models import Asset, AssetKind
from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import run_step


async def _registry(http: httpx.AsyncClient, base: str, path: str, body: dict[str, str]) -> None:
    response = await http.post(f"{base}/api/2.0/mlflow/{path}", json=body)
    assert response.status_code == 200, response.text


def _step(url: str, model: str) -> dict[str, object]:
    return {"id": "registry", "kind": "mlflow_model_version", "item": "model_version", "tracking_uri": url,
            "model": model, "window": "1d", "retries": 0}  # fmt: skip


class TestMlflowModelVersion:
    async def test_alias_moved_is_anomalous(
        self, mlflow_url: str, http: httpx.AsyncClient, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Versions older than the window and a still alias are ok; moving the alias makes it anomalous."""
        model = f"churn-{uuid.uuid4().hex[:8]}"
        await _registry(http, mlflow_url, "registered-models/create", {"name": model})
        for n in (1, 2):
            await _registry(
                http, mlflow_url, "model-versions/create", {"name": model, "source": f"s3://m/{n}"}
            )
        await _registry(
            http, mlflow_url, "registered-models/alias", {"name": model, "alias": "champion", "version": "1"}
        )
        # Two days on, the versions just created are outside the 1-day window.
        later = datetime.now(UTC) + timedelta(days=2)

        first = await run_step(_step(mlflow_url, model), make_ctx(now=later), side="mlops")
        assert first.state is StepState.OK, first.error
        assert "no change in the last 24 h; latest version 2 (2 d old); champion -> 1" in first.detail
        assert "alias baseline recorded" in first.detail
        assert first.asset == Asset(kind=AssetKind.MODEL, name=model)
        assert first.link == f"{mlflow_url}/#/models/{model}"

        still = await run_step(
            _step(mlflow_url, model), make_ctx(now=later + timedelta(minutes=1)), side="mlops"
        )
        assert still.state is StepState.OK
        assert "baseline" not in still.detail

        await _registry(
            http, mlflow_url, "registered-models/alias", {"name": model, "alias": "champion", "version": "2"}
        )
        moved = await run_step(
            _step(mlflow_url, model), make_ctx(now=later + timedelta(minutes=2)), side="mlops"
        )
        assert moved.state is StepState.ANOMALOUS
        assert "alias champion moved from version 1 to 2" in moved.detail
        assert "now champion -> 2" in moved.detail

        settled = await run_step(
            _step(mlflow_url, model), make_ctx(now=later + timedelta(days=2)), side="mlops"
        )
        assert settled.state is StepState.OK

    async def test_new_version_in_window(
        self, mlflow_url: str, http: httpx.AsyncClient, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A version created minutes ago (real clock) is anomalous: a release just before the incident."""
        model = f"fraud-{uuid.uuid4().hex[:8]}"
        await _registry(http, mlflow_url, "registered-models/create", {"name": model})
        await _registry(http, mlflow_url, "model-versions/create", {"name": model, "source": "s3://m/1"})
        result = await run_step(_step(mlflow_url, model), make_ctx(), side="mlops")
        assert result.state is StepState.ANOMALOUS, result.error
        assert "version 1 created" in result.detail
        assert result.metrics["versions_in_window"] == 1

    async def test_unknown_model_fails(self, mlflow_url: str, make_ctx: Callable[..., RunContext]) -> None:
        """A model the registry does not know: failed, with MLflow's 404, never ok."""
        result = await run_step(_step(mlflow_url, "no-such-model"), make_ctx(), side="mlops")
        assert result.state is StepState.FAILED
        assert "answered 404" in (result.error or "")
        assert "RESOURCE_DOES_NOT_EXIST" in (result.error or "")

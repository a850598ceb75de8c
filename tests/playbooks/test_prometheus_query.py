"""Step prometheus_query against a real Prometheus server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import run_step


def _step(url: str, query: str, op: str, threshold: float, **extra: object) -> dict[str, object]:
    return {"id": "prom", "kind": "prometheus_query", "item": "serving_health", "url": url, "query": query,
            "op": op, "threshold": threshold, "retries": 0, **extra}  # fmt: skip


ERROR_RATE = 'label_replace(vector(0.12), "model", "churn", "", "")'


class TestPrometheusQuery:
    async def test_vector_over_threshold(
        self, prometheus_url: str, make_ctx: Callable[..., RunContext]
    ) -> None:
        """An error rate of 0.12 against > 0.05 is anomalous, naming the series; against > 0.5 it is ok."""
        hot = await run_step(_step(prometheus_url, ERROR_RATE, ">", 0.05), make_ctx(), side="mlops")
        assert hot.state is StepState.ANOMALOUS, hot.error
        assert hot.detail == '1 of 1 series > 0.05: {model="churn"} = 0.12'
        cool = await run_step(_step(prometheus_url, ERROR_RATE, ">", 0.5), make_ctx(), side="mlops")
        assert cool.state is StepState.OK
        assert cool.detail == "none of 1 series > 0.5 (min 0.12, max 0.12)"

    async def test_scalar(self, prometheus_url: str, make_ctx: Callable[..., RunContext]) -> None:
        """A scalar result is compared like a one-series vector."""
        result = await run_step(_step(prometheus_url, "scalar(vector(3))", ">=", 3), make_ctx(), side="mlops")
        assert result.state is StepState.ANOMALOUS
        assert result.metrics["max"] == 3

    @pytest.mark.parametrize(("empty", "state"), [("unknown", StepState.INCONCLUSIVE), ("ok", StepState.OK)])
    async def test_empty_result(
        self, empty: str, state: StepState, prometheus_url: str, make_ctx: Callable[..., RunContext]
    ) -> None:
        """No series: what `empty` says, unknown by default."""
        step = _step(prometheus_url, 'up{job="nothing-here"}', "==", 0, empty=empty)
        result = await run_step(step, make_ctx(), side="mlops")
        assert result.state is state
        assert "no series" in result.detail

    async def test_bad_query_fails(self, prometheus_url: str, make_ctx: Callable[..., RunContext]) -> None:
        """A query Prometheus refuses fails the step with Prometheus's own reason, without retrying."""
        result = await run_step(
            {**_step(prometheus_url, "sum(", ">", 1), "retries": 2}, make_ctx(), side="mlops"
        )
        assert result.state is StepState.FAILED
        assert result.attempts == 1
        assert "Prometheus refused the query: bad_data" in (result.error or "")

    async def test_matrix_refused(self, prometheus_url: str, make_ctx: Callable[..., RunContext]) -> None:
        """A range selector is not an instant value: failed, saying so."""
        result = await run_step(_step(prometheus_url, "up[1m]", ">", 1), make_ctx(), side="mlops")
        assert result.state is StepState.FAILED
        assert "returned a matrix" in (result.error or "")

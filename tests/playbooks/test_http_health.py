"""Step http_health against a local serving endpoint made unready, slow, or unreachable."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.models import Asset, AssetKind, EvidenceStatus
from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.conftest import free_port
from tests.playbooks.helpers import run_step
from tests.playbooks.servers import LocalServer, Reply


def _step(url: str, **fields: object) -> dict[str, object]:
    return {
        "id": "health",
        "kind": "http_health",
        "item": "serving_health",
        "url": url,
        "retries": 0,
        **fields,
    }


class TestHttpHealth:
    async def test_kserve_model_ready_then_unready(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """KServe V2: the per-model ready route answering 200 is ok; 503 is anomalous, naming the model."""
        http_server.route("GET", "/v2/models/churn/ready", Reply(200, {}))
        step = _step(http_server.url, preset="kserve_v2", model="churn", latency_budget="2s")
        ok = await run_step(step, make_ctx(), side="mlops")
        assert ok.state is StepState.OK, ok.error
        assert "model churn healthy: 200" in ok.detail
        assert ok.asset == Asset(kind=AssetKind.ENDPOINT, name="churn")
        assert ok.item_ref == "mlops.serving_health"

        http_server.route("GET", "/v2/models/churn/ready", Reply(503, "model not loaded"))
        down = await run_step(step, make_ctx(), side="mlops")
        assert down.state is StepState.ANOMALOUS
        assert down.status is EvidenceStatus.ANOMALOUS
        assert "model churn not ready: /v2/models/churn/ready answered 503" in down.detail

    async def test_mlflow_ping(self, http_server: LocalServer, make_ctx: Callable[..., RunContext]) -> None:
        """MLflow serving: /ping 200 is ok, 500 is anomalous."""
        http_server.route("GET", "/ping", Reply(200, "\n"))
        step = _step(http_server.url, preset="mlflow")
        assert (await run_step(step, make_ctx(), side="mlops")).state is StepState.OK
        http_server.route("GET", "/ping", Reply(500, "boom"))
        failing = await run_step(step, make_ctx(), side="mlops")
        assert failing.state is StepState.ANOMALOUS
        assert "/ping answered 500" in failing.detail

    async def test_latency_over_budget(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A 200 that takes longer than the budget is anomalous and says by how much."""
        http_server.route("GET", "/healthz", Reply(200, {}, delay=0.3))
        slow = await run_step(
            _step(f"{http_server.url}/healthz", latency_budget="100ms"), make_ctx(), side="mlops"
        )
        assert slow.state is StepState.ANOMALOUS
        assert "slowly" in slow.detail
        assert "over the 100 ms budget" in slow.detail
        assert slow.metrics["latency_seconds"] >= 0.3

    async def test_unreachable_is_anomalous(self, make_ctx: Callable[..., RunContext]) -> None:
        """Nothing listening: the endpoint is down, which is evidence (anomalous), not a failed step."""
        result = await run_step(_step(f"http://127.0.0.1:{free_port()}/ready"), make_ctx(), side="mlops")
        assert result.state is StepState.ANOMALOUS
        assert "unreachable (ConnectError)" in result.detail

    async def test_hung_endpoint_is_anomalous(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """An endpoint that does not answer within the step's time is reported as such, not as a timeout."""
        http_server.route("GET", "/ready", Reply(200, {}, delay=2))
        result = await run_step(_step(f"{http_server.url}/ready", timeout=0.5), make_ctx(), side="mlops")
        assert result.state is StepState.ANOMALOUS
        assert "no answer within 400 ms" in result.detail

    async def test_bearer_token_and_headers_sent(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A token from the env goes out as a bearer header, custom headers as given."""
        http_server.route("GET", "/ready", Reply(200, {}))
        step = _step(f"{http_server.url}/ready", token="${SERVING_TOKEN}", headers={"X-Team": "mlops"})
        result = await run_step(step, make_ctx(env={"SERVING_TOKEN": "tok-123"}), side="mlops")
        assert result.state is StepState.OK
        assert http_server.requests[-1].headers["authorization"] == "Bearer tok-123"
        assert http_server.requests[-1].headers["x-team"] == "mlops"

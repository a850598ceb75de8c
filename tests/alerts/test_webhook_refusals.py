"""Every refusal of the webhook (404, 413, 401, 400, 422, 503), each beside an accepted control."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from starlette.applications import Starlette
from structlog.testing import capture_logs

from bot.alerts.auth import sign
from bot.alerts.routing import RoutingRules
from bot.services.intake import AlertIntake
from bot.store.alert_inbox import AlertInbox
from handlers.alerts.webhook import alert_routes
from tests.alerts.conftest import AM_TOKEN, GENERIC_SECRET, SOURCES, bearer, fixture_bytes, fixture_json

LIMIT = 1024 * 1024
AM_BODY = fixture_bytes("alertmanager_v4_firing.json")


def refused(registry: CollectorRegistry, source: str, reason: str) -> float:
    value = registry.get_sample_value(
        "handoff_alert_requests_refused_total", {"source": source, "reason": reason}
    )
    return value or 0.0


class Chunks:
    """A request body streamed in 64 KiB chunks, counting how many the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            self.pulled += 1
            sent += self.chunk
            yield b" " * self.chunk


class TestAccepted:
    async def test_control(
        self, client: httpx.AsyncClient, redis: Redis, registry: CollectorRegistry
    ) -> None:
        """The right token and a valid body: 202, both alerts in the stream before the answer, counted."""
        response = await client.post("/alerts/am", content=AM_BODY, headers=bearer(AM_TOKEN))
        assert response.status_code == 202
        assert response.json() == {"accepted": 2, "alerts": ["3cfe9cef39bf3d2d", "b75df3909fef4622"]}
        assert await redis.xlen("handoff:v1:alerts") == 2
        assert registry.get_sample_value("handoff_alerts_accepted_total", {"source": "am"}) == 2.0
        assert registry.get_sample_value("handoff_alert_requests_accepted_total", {"source": "am"}) == 1.0


class TestNotFound:
    async def test_unknown_source(self, client: httpx.AsyncClient, registry: CollectorRegistry) -> None:
        """An unconfigured source is 404, counted as `unknown` (never the raw name: bounded cardinality)."""
        assert (await client.post("/alerts/am", content=AM_BODY, headers=bearer(AM_TOKEN))).status_code == 202
        response = await client.post("/alerts/nope", content=AM_BODY, headers=bearer(AM_TOKEN))
        assert response.status_code == 404
        assert refused(registry, "unknown", "unknown_source") == 1.0

    async def test_disabled_source(self, client: httpx.AsyncClient) -> None:
        """A disabled source answers like an unknown one."""
        response = await client.post("/alerts/off", content=AM_BODY, headers=bearer(AM_TOKEN))
        assert response.status_code == 404

    async def test_unknown_source_comes_before_size(self, client: httpx.AsyncClient) -> None:
        """Order: the source is checked before the body is read."""
        response = await client.post("/alerts/nope", content=b"x" * (LIMIT + 1))
        assert response.status_code == 404

    async def test_get_is_not_allowed(self, client: httpx.AsyncClient) -> None:
        """Only POST is routed."""
        assert (await client.get("/alerts/am")).status_code == 405


class TestTooLarge:
    async def test_declared_length_is_refused_before_reading(self, client: httpx.AsyncClient) -> None:
        """Content-Length over 1 MiB: 413 without reading a single chunk of the body."""
        body = Chunks(LIMIT + 1)
        headers = bearer(AM_TOKEN) | {"Content-Length": str(LIMIT + 1)}
        response = await client.post("/alerts/am", content=body, headers=headers)
        assert response.status_code == 413
        assert body.pulled == 0

    async def test_streamed_body_is_cut_at_the_limit(
        self, client: httpx.AsyncClient, registry: CollectorRegistry
    ) -> None:
        """No Content-Length (chunked): reading stops once the body passes 1 MiB, not at its end (2 MiB)."""
        body = Chunks(2 * LIMIT)
        response = await client.post("/alerts/am", content=body, headers=bearer(AM_TOKEN))
        assert response.status_code == 413
        assert body.pulled == LIMIT // body.chunk + 1
        assert refused(registry, "am", "body_too_large") == 1.0

    async def test_exactly_the_limit_is_read(self, client: httpx.AsyncClient) -> None:
        """A body of exactly 1 MiB is read (then judged on its content: here, not JSON -> 400)."""
        body = Chunks(LIMIT)
        response = await client.post("/alerts/am", content=body, headers=bearer(AM_TOKEN))
        assert response.status_code == 400

    async def test_size_comes_before_auth(self, client: httpx.AsyncClient) -> None:
        """Order: an oversized body without credentials is 413."""
        response = await client.post("/alerts/am", content=b"x" * (LIMIT + 1))
        assert response.status_code == 413

    async def test_bad_content_length(self, client: httpx.AsyncClient) -> None:
        """A Content-Length that is not a number is a bad request."""
        headers = bearer(AM_TOKEN) | {"Content-Length": "lots"}
        response = await client.post("/alerts/am", content=Chunks(10), headers=headers)
        assert response.status_code == 400


class TestUnauthorized:
    @pytest.mark.parametrize(
        ("headers", "reason"),
        [
            ({}, "missing_credentials"),
            ({"Authorization": f"Basic {AM_TOKEN}"}, "missing_credentials"),
            ({"Authorization": "Bearer wrong-token"}, "bad_token"),
            ({"Authorization": f"Bearer {AM_TOKEN}x"}, "bad_token"),
        ],
    )
    async def test_bearer(
        self, client: httpx.AsyncClient, registry: CollectorRegistry, headers: dict[str, str], reason: str
    ) -> None:
        """Missing or wrong bearer token: 401 with the reason counted; the right one is accepted."""
        assert (await client.post("/alerts/am", content=AM_BODY, headers=bearer(AM_TOKEN))).status_code == 202
        response = await client.post("/alerts/am", content=AM_BODY, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized"}
        assert refused(registry, "am", reason) == 1.0

    async def test_scheme_is_case_insensitive(self, client: httpx.AsyncClient) -> None:
        """`bearer` in lower case is the same scheme."""
        response = await client.post(
            "/alerts/am", content=AM_BODY, headers={"Authorization": f"bearer {AM_TOKEN}"}
        )
        assert response.status_code == 202

    async def test_wrong_hmac(self, client: httpx.AsyncClient, registry: CollectorRegistry) -> None:
        """X-Handoff-Signature with another secret, or missing: 401; the right one is accepted."""
        body = json.dumps({"dedup_key": "k", "status": "firing", "summary": "s"}).encode()
        good = {"X-Handoff-Signature": "sha256=" + sign(GENERIC_SECRET, body)}
        assert (await client.post("/alerts/generic", content=body, headers=good)).status_code == 202
        wrong = {"X-Handoff-Signature": "sha256=" + sign("guess", body)}
        assert (await client.post("/alerts/generic", content=body, headers=wrong)).status_code == 401
        assert (await client.post("/alerts/generic", content=body)).status_code == 401
        assert refused(registry, "generic", "bad_signature") == 1.0
        assert refused(registry, "generic", "missing_credentials") == 1.0

    @pytest.mark.parametrize("source", ["nosecret", "emptysecret"])
    async def test_source_without_secret_refuses_everything(
        self, client: httpx.AsyncClient, registry: CollectorRegistry, source: str
    ) -> None:
        """A source configured without a secret is never open: any credential, or none, is 401."""
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
            response = await client.post(f"/alerts/{source}", content=AM_BODY, headers=headers)
            assert response.status_code == 401
        assert refused(registry, source, "no_secret_configured") == 3.0

    async def test_auth_comes_before_parsing(self, client: httpx.AsyncClient) -> None:
        """Order: a malformed body with a wrong token is 401, not 400."""
        response = await client.post("/alerts/am", content=b"{not json", headers=bearer("wrong"))
        assert response.status_code == 401

    async def test_log_has_the_reason_not_the_secret(self, client: httpx.AsyncClient) -> None:
        """The refusal is logged with source, status and reason; neither token nor body appears."""
        with capture_logs() as logs:
            await client.post(
                "/alerts/am", content=AM_BODY, headers={"Authorization": "Bearer guessed-token"}
            )
        (event,) = [e for e in logs if e["event"] == "alert_refused"]
        assert event["source"] == "am"
        assert event["status"] == 401
        assert event["reason"] == "bad_token"
        assert event["log_level"] == "warning"
        text = repr(logs)
        assert AM_TOKEN not in text
        assert "guessed-token" not in text
        assert "FeatureTableStale" not in text  # nothing of the body


class TestBadRequest:
    async def test_malformed_json(self, client: httpx.AsyncClient, registry: CollectorRegistry) -> None:
        """An authenticated body that is not JSON: 400 malformed_json; valid JSON is accepted."""
        assert (await client.post("/alerts/am", content=AM_BODY, headers=bearer(AM_TOKEN))).status_code == 202
        response = await client.post("/alerts/am", content=AM_BODY[:-5], headers=bearer(AM_TOKEN))
        assert response.status_code == 400
        assert response.json() == {"error": "malformed_json"}
        assert refused(registry, "am", "malformed_json") == 1.0

    async def test_not_utf8(self, client: httpx.AsyncClient) -> None:
        """Bytes that are not text are malformed too."""
        response = await client.post("/alerts/am", content=b"\xff\xfe{}", headers=bearer(AM_TOKEN))
        assert response.status_code == 400


class TestInvalidPayload:
    async def test_missing_fingerprint_names_the_field(
        self, client: httpx.AsyncClient, redis: Redis, registry: CollectorRegistry
    ) -> None:
        """An Alertmanager alert without a fingerprint: 422 naming `alerts.0.fingerprint`; nothing kept."""
        data = fixture_json("alertmanager_v4_firing.json")
        del data["alerts"][0]["fingerprint"]
        response = await client.post("/alerts/am", json=data, headers=bearer(AM_TOKEN))
        assert response.status_code == 422
        assert response.json() == {
            "error": "invalid_payload",
            "fields": [{"field": "alerts.0.fingerprint", "message": "Field required"}],
        }
        assert await redis.xlen("handoff:v1:alerts") == 0  # all or nothing: the valid second alert neither
        assert refused(registry, "am", "invalid_payload") == 1.0

    async def test_several_fields(self, client: httpx.AsyncClient) -> None:
        """Every problem is named: a bad status and a missing summary in a generic batch."""
        batch = {"alerts": [{"dedup_key": "a", "status": "burning"}]}
        body = json.dumps(batch).encode()
        headers = {"X-Handoff-Signature": "sha256=" + sign(GENERIC_SECRET, body)}
        response = await client.post("/alerts/generic", content=body, headers=headers)
        assert response.status_code == 422
        fields = [f["field"] for f in response.json()["fields"]]
        assert fields == ["alerts.0.status", "alerts.0.summary"]

    async def test_not_an_object(self, client: httpx.AsyncClient) -> None:
        """A JSON array where an object is expected is a 422 about the body as a whole."""
        response = await client.post("/alerts/am", content=b"[]", headers=bearer(AM_TOKEN))
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "(body)"

    async def test_payload_of_another_source(self, client: httpx.AsyncClient) -> None:
        """A Soda scan posted to the Alertmanager source does not fit: 422 naming `alerts`."""
        response = await client.post(
            "/alerts/am", content=fixture_bytes("soda_scan_results.json"), headers=bearer(AM_TOKEN)
        )
        assert response.status_code == 422
        assert {"field": "alerts", "message": "Field required"} in response.json()["fields"]

    async def test_log_names_fields_not_values(self, client: httpx.AsyncClient) -> None:
        """The 422 log line carries the field names, not the values sent."""
        data = fixture_json("alertmanager_v4_firing.json")
        data["alerts"][0]["status"] = "secret-looking-value"
        with capture_logs() as logs:
            await client.post("/alerts/am", json=data, headers=bearer(AM_TOKEN))
        (event,) = [e for e in logs if e["event"] == "alert_refused"]
        assert event["reason"] == "invalid_payload"
        assert event["fields"][0]["field"] == "alerts.0.status"
        assert "secret-looking-value" not in repr(logs)


class TestInboxUnavailable:
    async def test_redis_down_is_503(self, registry: CollectorRegistry) -> None:
        """When the inbox cannot persist, the sender gets 503 (and retries); nothing is acknowledged."""
        dead = Redis.from_url("redis://127.0.0.1:1/14", socket_connect_timeout=0.5)
        app = Starlette(
            routes=alert_routes(SOURCES, AlertIntake(AlertInbox(dead)), RoutingRules(), registry=registry)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://handoff") as client:
            with capture_logs() as logs:
                response = await client.post("/alerts/am", content=AM_BODY, headers=bearer(AM_TOKEN))
        await dead.aclose()
        assert response.status_code == 503
        assert response.json() == {"error": "inbox_unavailable"}
        assert refused(registry, "am", "inbox_unavailable") == 1.0
        assert any(e["event"] == "alert_inbox_unavailable" for e in logs)

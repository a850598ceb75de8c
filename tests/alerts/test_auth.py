"""Webhook authentication rules, without HTTP: bearer, HMAC with and without a timestamp, refusal reasons."""

from __future__ import annotations

from starlette.datastructures import Headers

from bot.alerts.auth import AuthFailure, sign, verify
from bot.alerts.config import AlertSourceConfig
from bot.alerts.kinds import SourceKind

BODY = b'{"dedup_key":"k","status":"firing","summary":"s"}'
NOW = 1_800_000_000.0
HMAC = AlertSourceConfig(kind=SourceKind.GENERIC, auth="hmac", secret="k3y")


def headers(**values: str) -> Headers:
    return Headers({k.replace("_", "-"): v for k, v in values.items()})


class TestHmac:
    def test_prefix_and_case(self) -> None:
        """`sha256=<hex>` and bare hex are both accepted, in either case."""
        digest = sign("k3y", BODY)
        for value in (digest, "sha256=" + digest, digest.upper(), "sha256=" + digest.upper()):
            assert verify(HMAC, headers(x_handoff_signature=value), BODY, NOW) is None

    def test_timestamp_is_signed(self) -> None:
        """With X-Handoff-Timestamp the signature covers `ts:body`; a bad or stale timestamp is refused."""
        ts = str(int(NOW))
        good = headers(x_handoff_signature=sign("k3y", BODY, ts), x_handoff_timestamp=ts)
        assert verify(HMAC, good, BODY, NOW) is None
        assert verify(HMAC, good, BODY, NOW + 301) is AuthFailure.STALE_TIMESTAMP
        bad = headers(x_handoff_signature=sign("k3y", BODY, ts), x_handoff_timestamp="yesterday")
        assert verify(HMAC, bad, BODY, NOW) is AuthFailure.BAD_TIMESTAMP

    def test_forged_stale_request_is_a_bad_signature(self) -> None:
        """The signature is checked first: a forgery is reported as such, whatever its timestamp."""
        forged = headers(x_handoff_signature="00" * 32, x_handoff_timestamp="1")
        assert verify(HMAC, forged, BODY, NOW) is AuthFailure.BAD_SIGNATURE

    def test_required_timestamp(self) -> None:
        """require_timestamp refuses body-only signatures."""
        strict = HMAC.model_copy(update={"require_timestamp": True})
        plain = headers(x_handoff_signature=sign("k3y", BODY))
        assert verify(strict, plain, BODY, NOW) is AuthFailure.MISSING_TIMESTAMP
        assert verify(HMAC, plain, BODY, NOW) is None

    def test_custom_headers(self) -> None:
        """A Grafana contact point may use its own header names; the source config names them."""
        source = AlertSourceConfig(
            kind=SourceKind.GRAFANA,
            auth="hmac",
            secret="k3y",
            signature_header="X-Sig",
            timestamp_header="X-Ts",
        )
        ts = str(int(NOW))
        assert verify(source, headers(x_sig=sign("k3y", BODY, ts), x_ts=ts), BODY, NOW) is None
        assert verify(source, headers(x_grafana_alerting_signature=sign("k3y", BODY)), BODY, NOW) is (
            AuthFailure.MISSING_CREDENTIALS
        )


class TestBearer:
    def test_bearer_does_not_accept_a_signature(self) -> None:
        """A bearer source wants the token: a valid HMAC of the body is no credential there."""
        source = AlertSourceConfig(kind=SourceKind.ALERTMANAGER, secret="k3y")
        assert verify(source, headers(x_handoff_signature=sign("k3y", BODY)), BODY, NOW) is (
            AuthFailure.MISSING_CREDENTIALS
        )
        assert verify(source, headers(authorization="Bearer k3y"), BODY, NOW) is None
        assert verify(source, headers(authorization="Bearer  k3y "), BODY, NOW) is None

    def test_no_secret(self) -> None:
        """No secret, or an empty one: refused before looking at any credential."""
        for secret in (None, ""):
            source = AlertSourceConfig(kind=SourceKind.ALERTMANAGER, secret=secret)
            assert verify(source, headers(authorization="Bearer "), BODY, NOW) is AuthFailure.NO_SECRET

"""The Redis settings: REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_MASTER, passwords, TLS and the WAIT option,
checked with one plain line per problem; and the client they make, against real Sentinels with passwords."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings, SettingsError, load_settings
from bot.store import connect_settings
from bot.store.connection import MasterConnection, MasterSSLConnection, redis_from_settings
from tests.ha.cluster import SERVICE, SentinelCluster

SLACK = {"slack_bot_token": "xoxb-test", "slack_signing_secret": "secret"}


def settings(**redis: Any) -> Settings:
    return load_settings(**SLACK, **redis)


def problems(**redis: Any) -> list[str]:
    with pytest.raises(SettingsError) as refused:
        settings(**redis)
    return refused.value.lines


class TestValidation:
    def test_plain_url_is_the_default(self) -> None:
        plain = settings()
        assert plain.sentinel_nodes == []
        assert plain.redis_wait_replicas == 0

    def test_sentinels_are_parsed_and_normalised(self) -> None:
        s = settings(
            redis_sentinels=" 10.0.0.5:26379, sentinel-b:26380,[::1]:26381 ", redis_sentinel_master="handoff"
        )
        assert s.sentinel_nodes == [("10.0.0.5", 26379), ("sentinel-b", 26380), ("::1", 26381)]
        assert s.redis_sentinels == "10.0.0.5:26379,sentinel-b:26380,[::1]:26381"

    @pytest.mark.parametrize("bad", ["10.0.0.5", "host:", ":26379", "host:port", "host:70000", "a:1,,b:2"])
    def test_a_bad_sentinel_entry_is_named(self, bad: str) -> None:
        (line,) = problems(redis_sentinels=bad, redis_sentinel_master="handoff")
        assert line.startswith("REDIS_SENTINELS: ")
        assert "is not host:port" in line

    def test_sentinels_and_master_go_together(self) -> None:
        assert problems(redis_sentinels="a:1,b:2,c:3") == [
            "REDIS_SENTINEL_MASTER: Value error, is required with REDIS_SENTINELS: the name in the Sentinels' "
            "`sentinel monitor` line"
        ]
        (line,) = problems(redis_sentinel_master="handoff")
        assert line.startswith("REDIS_SENTINEL_MASTER: ")
        assert "REDIS_SENTINELS is not" in line

    def test_a_sentinel_password_without_sentinels_is_refused(self) -> None:
        (line,) = problems(redis_sentinel_password="pw")
        assert line == "REDIS_SENTINEL_PASSWORD: Value error, is only used with REDIS_SENTINELS"

    def test_tls_with_a_plain_url_says_to_use_rediss(self) -> None:
        (line,) = problems(redis_ssl=True)
        assert line.startswith("REDIS_SSL: ")
        assert "rediss://" in line
        assert settings(redis_ssl=True, redis_sentinels="a:1", redis_sentinel_master="m").redis_ssl

    def test_ca_file_must_exist_and_needs_tls(self, tmp_path: Path) -> None:
        (line,) = problems(redis_url="rediss://h:6379/0", redis_ssl_ca_certs=tmp_path / "missing.pem")
        assert line.startswith("REDIS_SSL_CA_CERTS: ")
        assert "no such file" in line
        ca = tmp_path / "ca.pem"
        ca.write_text("-----BEGIN CERTIFICATE-----\n")
        (line,) = problems(redis_ssl_ca_certs=ca)
        assert line.startswith("REDIS_SSL_CA_CERTS: ")
        assert "only used with TLS" in line

    def test_wait_bounds(self) -> None:
        assert problems(redis_wait_replicas=-1)[0].startswith("REDIS_WAIT_REPLICAS: ")
        assert problems(redis_wait_timeout_ms=0)[0].startswith("REDIS_WAIT_TIMEOUT_MS: ")
        assert problems(redis_retry_seconds=0)[0].startswith("REDIS_RETRY_SECONDS: ")

    def test_passwords_are_never_printed(self) -> None:
        lines = problems(
            redis_sentinel_password="hunter2-sentinel", redis_password="hunter2", redis_wait_replicas=-1
        )
        assert not any("hunter2" in line for line in lines)
        assert "hunter2" not in repr(settings(redis_password="hunter2"))

    def test_the_factory_picks_the_connection_class(self) -> None:
        plain = redis_from_settings(settings())
        assert plain.sentinels == ()
        sentinel = redis_from_settings(settings(redis_sentinels="127.0.0.1:1", redis_sentinel_master="m"))
        assert sentinel.master.connection_pool.connection_class is MasterConnection
        assert len(sentinel.sentinels) == 1
        tls = redis_from_settings(
            settings(redis_sentinels="127.0.0.1:1", redis_sentinel_master="m", redis_ssl=True)
        )
        assert tls.master.connection_pool.connection_class is MasterSSLConnection


@pytest.fixture(scope="module")
def guarded() -> Iterator[SentinelCluster]:
    """A master and one Sentinel, each with its own password."""
    cluster = SentinelCluster(
        replicas=0, sentinel_count=1, password="redis-pw", sentinel_password="sentinel-pw"
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


class TestPasswords:
    async def test_the_stores_reach_a_guarded_master_through_guarded_sentinels(
        self, guarded: SentinelCluster
    ) -> None:
        stores = connect_settings(
            settings(
                redis_sentinels=guarded.sentinel_setting,
                redis_sentinel_master=SERVICE,
                redis_sentinel_password="sentinel-pw",
                redis_password="redis-pw",
            )
        )
        try:
            assert await stores.ping()
            assert await stores.incidents.claim_once("ha-password-check", ttl=timedelta(seconds=5))
        finally:
            await stores.aclose()

    async def test_a_wrong_sentinel_password_does_not_find_the_master(self, guarded: SentinelCluster) -> None:
        s = settings(
            redis_sentinels=guarded.sentinel_setting,
            redis_sentinel_master=SERVICE,
            redis_sentinel_password="wrong",
            redis_password="redis-pw",
            redis_retry_seconds=0.2,
        )
        stores = connect_settings(s)
        try:
            with pytest.raises(Exception, match=r"(?i)auth|password|master"):
                await stores.redis.ping()
        finally:
            await stores.aclose()

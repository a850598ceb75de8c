"""The registry: an explicit list of step kinds, checked before a run starts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from playbooks.errors import UnknownStepKind
from playbooks.registry import BUILTIN_STEP_KINDS, Registry, default_registry
from playbooks.runner import RunContext, run_playbook
from playbooks.schema import STEP_KINDS
from tests.playbooks.helpers import make_playbook
from tests.playbooks.servers import LocalServer, Reply


class TestRegistry:
    def test_builtins_cover_the_schema(self) -> None:
        """Every kind the schema accepts has an executor, in the schema's order."""
        assert default_registry().kinds == STEP_KINDS

    def test_twice_is_refused(self) -> None:
        with pytest.raises(ValueError, match="registered twice"):
            Registry([*BUILTIN_STEP_KINDS, BUILTIN_STEP_KINDS[0]])

    def test_unknown_kind(self) -> None:
        with pytest.raises(UnknownStepKind, match="no executor for step kind 'ftp_check'"):
            default_registry().executor("ftp_check")

    async def test_run_fails_fast_before_any_step(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A playbook with a kind the registry lacks is refused before its other steps touch a source."""
        http_server.route("GET", "/ok", Reply(200, {}))
        playbook = make_playbook(
            {"id": "h", "kind": "http_health", "item": "serving_health", "url": f"{http_server.url}/ok"},
            {"id": "p", "kind": "prometheus_query", "item": "serving_health", "url": http_server.url,
             "query": "up", "op": ">", "threshold": 1},
            side="mlops",
        )  # fmt: skip
        only_http = Registry([k for k in BUILTIN_STEP_KINDS if k.kind == "http_health"])
        with pytest.raises(UnknownStepKind, match="prometheus_query"):
            await run_playbook(playbook, {}, make_ctx(registry=only_http))
        assert http_server.requests == []

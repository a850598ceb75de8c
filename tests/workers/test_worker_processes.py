"""Playbooks on `handoff worker` processes: the Slack-facing bot queues runs, workers carry them out, and a
worker killed in the middle of a run leaves it to another, which completes it once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.domain.models import EvidenceStatus, Side
from slack_sandbox import SlackSandbox
from tests.playbooks.servers import LocalServer, Reply
from tests.scenarios.steps import confirm, open_incident
from tests.support.bot import BotUnderTest, eventually, flush, make_team, team_config
from tests.workers.support import WorkerProcess, playbook_yaml, process_env, write_config

SLOW = 6.0  # seconds the slow step's endpoint takes: the worker is killed while it waits


@pytest.fixture
def endpoint() -> Iterator[LocalServer]:
    server = LocalServer().start()
    server.route("GET", "/fast", Reply(503, {"ready": False}))  # serving_health: anomalous
    server.route("GET", "/slow", Reply(200, {"ok": True}, delay=SLOW))  # prediction_logs: ok, slowly
    yield server
    server.stop()


@pytest.fixture
async def queued_bot(
    sb: SlackSandbox, redis_url: str, tmp_path: Path, endpoint: LocalServer
) -> AsyncIterator[BotUnderTest]:
    """A bot with `playbooks.execution: workers`; its playbook's endpoint is known to the workers only."""
    await flush(redis_url)
    folder = tmp_path / "playbooks"
    folder.mkdir()
    steps = [
        {"id": "fast", "kind": "http_health", "item": "serving_health", "url": "${W_ENDPOINT}/fast"},
        {"id": "slow", "kind": "http_health", "item": "prediction_logs", "url": "${W_ENDPOINT}/slow",
         "latency_budget": "60s", "timeout": "30s"},
    ]  # fmt: skip
    (folder / "w-serving.yaml").write_text(playbook_yaml("w-serving", "mlops", steps, ["sev2"]))
    team = make_team(sb)
    workers = {"lease": "1.5s", "concurrency": 2}
    config = team_config(
        team,
        playbooks={"folders": [str(folder)], "builtin": False, "execution": "workers", "workers": workers},
    )
    under_test = BotUnderTest(sb=sb, team=team, config=config, redis_url=redis_url)
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


def _worker(bot: BotUnderTest, tmp_path: Path, endpoint: LocalServer, name: str) -> WorkerProcess:
    config = write_config(tmp_path / "handoff.yaml", bot.config)
    env = process_env(bot.sb, bot.redis_url, config, W_ENDPOINT=endpoint.url)
    return WorkerProcess(env, tmp_path / f"{name}.log")


class TestWorkerProcesses:
    async def test_a_killed_worker_run_is_resumed_once_by_another(
        self, queued_bot: BotUnderTest, tmp_path: Path, endpoint: LocalServer
    ) -> None:
        bot = queued_bot
        first = _worker(bot, tmp_path, endpoint, "first")
        second: WorkerProcess | None = None
        try:
            incident = await open_incident(bot)
            await eventually(
                lambda: any(r.path == "/slow" for r in endpoint.requests),
                timeout=30,
                what="slow step started",
            )
            first.kill()  # mid-run: the slow step is waiting on its endpoint
            second = _worker(bot, tmp_path, endpoint, "second")
            channel = incident.channel_id or ""

            def resumed_and_finished() -> bool:
                text = " ".join(str(m.blocks) for m in bot.messages(channel) if "w-serving" in str(m.blocks))
                return "Resumed by another worker after a worker stopped" in text and "finished" in text

            await eventually(resumed_and_finished, timeout=60, what="run resumed and finished")
            progress = [m for m in bot.messages(channel) if "Playbook* `w-serving`" in str(m.blocks)]
            assert len(progress) == 1, "the second worker updates the first worker's progress message"

            async def recorded() -> bool:
                after = await bot.bot.store.get(incident.id)
                return (
                    after.evidence["mlops.serving_health"].status is EvidenceStatus.ANOMALOUS
                    and after.evidence["mlops.prediction_logs"].status is EvidenceStatus.OK
                )

            await eventually(recorded, timeout=30, what="both findings recorded")
            timeline = await bot.bot.store.timeline(incident.id)
            recorded = [e.data.get("ref") for e in timeline if e.kind == "evidence"]
            assert sorted(recorded) == ["mlops.prediction_logs", "mlops.serving_health"], recorded
            # The decision is the same as with runs in one process: MLOps' endpoint failed, MLOps owns it.
            await confirm(bot, bot.team.ml[0], incident, Side.MLOPS, "Our asset failed",
                          asset=("endpoint", "serving"), owner=bot.team.ml[0])  # fmt: skip
            await confirm(bot, bot.team.data[0], incident, Side.DATAOPS, "Our side is clear")

            async def decided() -> bool:
                current = await bot.bot.store.get(incident.id)
                return current.decision is not None and current.decision.owner.value == "mlops"

            await eventually(decided, timeout=30, what="decision for MLOps")
        except BaseException:
            print(first.output(), second.output() if second else "")
            raise
        finally:
            first.stop()
            if second is not None:
                assert second.stop() == 0, second.output()

"""Run in a fresh interpreter: build the Slack-facing bot, play a scenario, print which step libraries it loaded.

`python -m tests.workers.lean_probe help` serves `/incident help` (playbooks inline, none run);
`python -m tests.workers.lean_probe workers` opens an incident whose playbook (SQL freshness on the DuckDB file
named by $LEAN_WAREHOUSE_URL) runs on a `handoff worker` subprocess, and waits for its finding.
Environment: HANDOFF_TEST_REDIS_URL (database used and flushed), LEAN_TMP (a scratch folder).
The last line of output is JSON: {"heavy": [...modules...], "finding": status or null}.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

HEAVY = ("numpy", "scipy", "sqlalchemy", "duckdb", "duckdb_engine", "pandas", "pyarrow", "psycopg")


async def main(mode: str) -> dict[str, Any]:
    from slack_sandbox import SlackSandbox
    from tests.scenarios.steps import open_incident
    from tests.support.bot import SIGNING_SECRET, BotUnderTest, eventually, flush, make_team, team_config
    from tests.workers.support import WorkerProcess, playbook_yaml, process_env, write_config

    redis_url = os.environ["HANDOFF_TEST_REDIS_URL"]
    tmp = Path(os.environ["LEAN_TMP"])
    await flush(redis_url)
    sb = SlackSandbox(signing_secret=SIGNING_SECRET)
    await sb.start()
    team = make_team(sb)
    finding: str | None = None
    if mode == "help":
        bot = await BotUnderTest(sb=sb, team=team, config=team_config(team), redis_url=redis_url).start()
        ack = await bot.sb.slash_command(team.commander, "/incident", "help")
        assert ack.ok, ack
        assert "/incident" in str(ack.body), ack
        await bot.stop()
    else:
        folder = tmp / "playbooks"
        folder.mkdir(exist_ok=True)
        step = {"id": "fresh", "kind": "sql_freshness", "item": "table_freshness", "url": "${LEAN_WAREHOUSE_URL}",
                "table": "orders", "column": "updated_at", "max_age": "2h", "timeout": "30s"}  # fmt: skip
        (folder / "lean.yaml").write_text(playbook_yaml("lean-freshness", "dataops", [step], ["sev2"]))
        playbooks = {"folders": [str(folder)], "builtin": False, "execution": "workers"}
        config = team_config(team, playbooks=playbooks)
        warehouse = os.environ.pop("LEAN_WAREHOUSE_URL")  # the Slack-facing process holds no credential
        bot = await BotUnderTest(sb=sb, team=team, config=config, redis_url=redis_url).start()
        env = process_env(
            sb, redis_url, write_config(tmp / "handoff.yaml", config), LEAN_WAREHOUSE_URL=warehouse
        )
        worker = WorkerProcess(env, tmp / "worker.log")
        try:
            incident = await open_incident(bot)

            async def found() -> str | None:
                item = (await bot.bot.store.get(incident.id)).evidence["dataops.table_freshness"]
                return item.status.value if item.status.value != "unknown" else None

            finding = await eventually(found, timeout=60, what="freshness finding from the worker")
        except BaseException:
            print(worker.output(), file=sys.stderr)
            raise
        finally:
            worker.stop()
            await bot.stop()
    await sb.stop()
    return {"heavy": sorted(m for m in HEAVY if m in sys.modules), "finding": finding}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))

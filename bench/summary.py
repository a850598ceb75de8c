"""Read the output of scripts/bench (every benchmark's own output, in order) and print one table at the end:
each benchmark, its figure, its baseline, the ratio and the goal (met / not met).

    scripts/bench | tee bench.log;  .venv/bin/python bench/summary.py < bench.log   (scripts/bench does this)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable


def _ack(text: str) -> tuple[str, str, float] | None:
    rows = {}
    for line in text.splitlines():
        for key, start in (
            ("bare", "bare Bolt, process_before_response=True"),
            ("handoff", "Handoff `/incident"),
        ):
            if line.startswith(start):
                rows[key] = [float(x) for x in re.findall(r"\s([\d.]+)(?=\s|x|$)", line)[:3]]
    if len(rows) < 2:
        return None
    return f"{rows['handoff'][2]:.2f} ms", f"{rows['bare'][2]:.2f} ms", rows["handoff"][2] / rows["bare"][2]


def _alerts(text: str) -> tuple[str, str, float] | None:
    noop = re.search(r"^POST /noop\s+([\d.]+)", text, re.M)
    intake = re.search(r"^POST /alerts/am\s+([\d.]+)", text, re.M)
    if not (noop and intake):
        return None
    return f"{intake.group(1)} req/s", f"{noop.group(1)} req/s", float(intake.group(1)) / float(noop.group(1))


def _rss(text: str) -> tuple[str, str, float] | None:
    m = re.search(r"^RESULT rss ([\d.]+) ([\d.]+) ([\d.]+)", text, re.M)
    return (f"{m.group(1)} MB", f"{m.group(2)} MB", float(m.group(3))) if m else None


def _workers(text: str) -> tuple[str, str, float] | None:
    walls = dict(re.findall(r"^\s+(\d+)\s+([\d.]+)\s+[\d.]+\s+[\d.]+x", text, re.M))
    if "1" not in walls or "4" not in walls:
        return None
    return f"{walls['4']} s (4 workers)", f"{walls['1']} s (1 worker)", float(walls["1"]) / float(walls["4"])


# benchmark, parser, goal text, goal test on the ratio
GOALS: list[tuple[str, Callable[[str], tuple[str, str, float] | None], str, Callable[[float], bool]]] = [
    ("bench_ack.py: /incident help p99, 50 conn.", _ack, "<= 1.25x bare Bolt", lambda r: r <= 1.25),
    ("bench_alerts.py: alert intake req/s", _alerts, ">= 0.5x no-op endpoint", lambda r: r >= 0.5),
    ("bench_rss.py: idle RSS of handoff serve", _rss, "<= 1.5x bare Bolt", lambda r: r <= 1.5),
    (
        "bench_workers.py: 100 runs, 1 -> 4 workers",
        _workers,
        "speed-up >= 3x (near linear)",
        lambda r: r >= 3.0,
    ),
]


def sections(log: str) -> dict[str, str]:
    parts = re.split(r"^== (\S+)$", log, flags=re.M)
    return {parts[i].rsplit("/", 1)[-1]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def main() -> None:
    found = sections(sys.stdin.read())
    print("\n== summary\n")
    print(f"{'benchmark':44} {'figure':>20} {'baseline':>20} {'ratio':>7}  goal")
    for name, parse, goal, ok in GOALS:
        result = parse(found.get(name.split(":")[0], ""))
        if result is None:
            print(f"{name:44} {'(no figures)':>20} {'':>20} {'':>7}  {goal}: not measured")
            continue
        figure, baseline, ratio = result
        print(
            f"{name:44} {figure:>20} {baseline:>20} {ratio:6.2f}x  {goal}: {'met' if ok(ratio) else 'not met'}"
        )


if __name__ == "__main__":
    main()

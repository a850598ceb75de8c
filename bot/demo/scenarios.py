"""The demo's incidents: what is broken in the world, the alert that fires, what responders say, who owns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.demo.world import FEATURE_TABLE, MODEL, WorldState
from bot.domain.models import Owner, Side


@dataclass(frozen=True)
class Verdict:
    side: Side
    say: str  # the radio option a responder picks
    asset: tuple[str, str] | None = None  # (kind option, name) when "Our asset failed"


@dataclass(frozen=True)
class Scenario:
    name: str
    story: str
    world: WorldState
    alertname: str
    summary: str
    labels: dict[str, str]
    rounds: tuple[tuple[Verdict, ...], ...]  # each round: verdicts given; a dispute leads to the next round
    owner: Owner  # what DOMAIN.md gives for this scenario
    primary: Side | None = None
    extra: dict[str, str] = field(default_factory=dict)


TABLE = f"features.{FEATURE_TABLE}"

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="stale-table",
            story="Prediction drift fires on the churn model; the playbooks find its feature table 9 h stale.",
            world=WorldState(feature_lag=timedelta(hours=9), drift_shift=0.5),
            alertname="PredictionDrift",
            summary=f"{MODEL} prediction drift: PSI above 0.25",
            labels={"model": MODEL, "dataset": TABLE, "severity": "critical"},
            rounds=(
                (
                    Verdict(Side.DATAOPS, "Our asset failed", ("Table", TABLE)),
                    Verdict(Side.MLOPS, "Our side is clear"),
                ),
            ),
            owner=Owner.DATAOPS,
            primary=Side.DATAOPS,
        ),
        Scenario(
            name="serving-outage",
            story="Endpoint errors fire; the model is not ready on its KServe V2 endpoint while the data is fresh.",
            world=WorldState(serving_ready=False),
            alertname="ModelEndpointErrors",
            summary=f"{MODEL} endpoint answering 503",
            labels={"model": MODEL, "dataset": TABLE, "severity": "page"},
            rounds=(
                (
                    Verdict(Side.MLOPS, "Our asset failed", ("Endpoint", f"{MODEL}-serving")),
                    Verdict(Side.DATAOPS, "Our side is clear"),
                ),
            ),
            owner=Owner.MLOPS,
            primary=Side.MLOPS,
        ),
        Scenario(
            name="population-shift",
            story="Prediction drift fires; the pipelines are healthy: a population shift, MLOps owns retraining.",
            world=WorldState(drift_shift=0.6),
            alertname="PredictionDrift",
            summary=f"{MODEL} prediction drift after the holiday campaign",
            labels={"model": MODEL, "dataset": TABLE, "severity": "warning"},
            rounds=(
                (
                    Verdict(Side.MLOPS, "Our asset failed", ("Model", MODEL)),
                    Verdict(Side.DATAOPS, "Our side is clear"),
                ),
            ),
            owner=Owner.JOINT,
            primary=Side.MLOPS,
        ),
        Scenario(
            name="dispute",
            story="The table is stale but DataOps first says its side is clear: a dispute, then joint triage.",
            world=WorldState(feature_lag=timedelta(hours=9), drift_shift=0.5),
            alertname="PredictionDrift",
            summary=f"{MODEL} prediction drift",
            labels={"model": MODEL, "dataset": TABLE, "severity": "critical"},
            rounds=(
                (Verdict(Side.DATAOPS, "Our side is clear"), Verdict(Side.MLOPS, "Our side is clear")),
                (
                    Verdict(Side.DATAOPS, "Our asset failed", ("Table", TABLE)),
                    Verdict(Side.MLOPS, "Our side is clear"),
                ),
            ),
            owner=Owner.DATAOPS,
            primary=Side.DATAOPS,
        ),
    )
}

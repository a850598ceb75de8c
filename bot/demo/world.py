"""The demo's small sample world: a DuckDB warehouse, a serving endpoint, a registry answer, dbt artifacts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MODEL = "churn-model"
FEATURE_TABLE = "user_daily"


@dataclass(frozen=True)
class WorldState:
    """What is broken in the world: each scenario sets one or two of these."""

    feature_lag: timedelta = timedelta(minutes=20)  # age of the newest feature row
    serving_ready: bool = True
    drift_shift: float = 0.0  # shift of the current prediction sample, in standard deviations
    recent_release: bool = False  # a model version registered an hour ago


def build_warehouse(path: Path, state: WorldState, now: datetime) -> None:
    """A feature table spread over eight days, and reference/current prediction samples (generated in SQL)."""
    path.unlink(missing_ok=True)
    newest = (now - state.feature_lag).replace(tzinfo=None, microsecond=0)
    con = duckdb.connect(str(path))
    try:
        con.execute("SELECT setseed(0.7)")
        con.execute("CREATE SCHEMA features")
        con.execute(
            f"CREATE TABLE features.{FEATURE_TABLE} AS SELECT range::INTEGER AS user_id, "
            "floor(random() * 10)::DOUBLE AS sessions_7d, "
            "CAST(? AS TIMESTAMP) - to_seconds(CAST(floor(random() * 8 * 86400) AS BIGINT)) AS updated_at "
            "FROM range(5000)",
            [newest],
        )
        con.execute(f"INSERT INTO features.{FEATURE_TABLE} VALUES (5000, 3.0, ?)", [newest])
        con.execute("CREATE SCHEMA predictions")
        normal = "sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"  # Box-Muller: a standard normal
        con.execute(f"CREATE TABLE predictions.reference AS SELECT {normal} AS score FROM range(3000)")
        con.execute(
            f"CREATE TABLE predictions.current AS SELECT {normal} + ? AS score FROM range(3000)",
            [state.drift_shift],
        )
    finally:
        con.close()


def _dbt_artifacts() -> dict[str, object]:
    source = f"source.shop.features.{FEATURE_TABLE}"
    model = "model.shop.churn_features"
    return {
        "manifest.json": {
            "parent_map": {model: [source], source: []},
            "child_map": {source: [model], model: []},
        },
        "run_results.json": {
            "metadata": {"dbt_version": "1.10.0"},
            "results": [
                {
                    "unique_id": "test.shop.not_null_churn_features_user_id",
                    "status": "pass",
                    "failures": 0,
                    "message": None,
                    "execution_time": 0.1,
                }
            ],
        },
        "sources.json": {
            "metadata": {"dbt_version": "1.10.0"},
            "results": [{"unique_id": source, "status": "pass", "max_loaded_at_time_ago_in_s": 1200.0}],
        },
    }


def world_app(state: WorldState, now: datetime) -> Starlette:
    """The serving endpoint (KServe V2 and MLflow /ping), the registry's REST answers and dbt artifacts."""
    created_ms = int(
        ((now - timedelta(hours=1)) if state.recent_release else (now - timedelta(days=12))).timestamp()
        * 1000
    )
    version = {
        "name": MODEL,
        "version": "7",
        "creation_timestamp": created_ms,
        "last_updated_timestamp": created_ms,
        "current_stage": "None",
        "status": "READY",
        "aliases": ["champion"],
        "run_id": "demo-run",
    }

    async def ready(request: Request) -> Response:
        if request.path_params["name"] != MODEL:
            return JSONResponse({"error": "model not found"}, status_code=404)
        return Response(status_code=200 if state.serving_ready else 503)

    async def ping(_: Request) -> Response:
        return Response("\n", status_code=200 if state.serving_ready else 503)

    async def registered_model(request: Request) -> Response:
        if request.query_params.get("name") != MODEL:
            return JSONResponse({"error_code": "RESOURCE_DOES_NOT_EXIST"}, status_code=404)
        return JSONResponse(
            {
                "registered_model": {
                    "name": MODEL,
                    "creation_timestamp": created_ms - 86_400_000 * 90,
                    "last_updated_timestamp": created_ms,
                    "latest_versions": [version],
                    "aliases": [{"alias": "champion", "version": "7"}],
                }
            }
        )

    async def versions(_: Request) -> Response:
        return JSONResponse({"model_versions": [version]})

    async def dbt(request: Request) -> Response:
        artifacts = _dbt_artifacts()
        name = request.path_params["name"]
        if name not in artifacts:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(json.dumps(artifacts[name]), media_type="application/json")

    return Starlette(
        routes=[
            Route("/v2/models/{name}/ready", ready),
            Route("/ping", ping),
            Route("/api/2.0/mlflow/registered-models/get", registered_model),
            Route("/api/2.0/mlflow/model-versions/search", versions),
            Route("/dbt/{name}", dbt),
        ]
    )


def now_utc() -> datetime:
    return datetime.now(UTC)

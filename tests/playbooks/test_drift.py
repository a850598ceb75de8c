"""Step drift: PSI and KS on generated samples with a known shift, read from DuckDB."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from bot.domain.models import Asset, AssetKind
from playbooks.results import StepState
from playbooks.runner import RunContext
from playbooks.steps.drift import psi
from tests.playbooks.helpers import NOW, run_step

N = 2000
SEED = 3  # with this seed: no shift gives KS p = 0.64, a 0.25-sigma shift PSI = 0.048 and KS p = 7e-8


def samples(shift: float, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    reference = rng.normal(0.0, 1.0, n)
    rng.normal(0.0, 1.0, n)  # keeps the current sample of every shift drawn from the same stream position
    return reference, rng.normal(shift, 1.0, n)


def write_features(path: Path, reference: np.ndarray, current: np.ndarray) -> str:
    """A DuckDB table `features(event_time, tenure)`: reference the week before, current the last day."""
    rows = path.with_suffix(".csv")
    with rows.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["event_time", "tenure"])
        for i, v in enumerate(reference):
            out.writerow([(NOW - timedelta(days=1, seconds=1 + i * 250)).replace(tzinfo=None).isoformat(), v])
        for i, v in enumerate(current):
            out.writerow([(NOW - timedelta(seconds=1 + i * 40)).replace(tzinfo=None).isoformat(), v])
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE features (event_time TIMESTAMP, tenure DOUBLE)")
        conn.execute(f"INSERT INTO features SELECT * FROM read_csv('{rows}', header = true)")
    return f"duckdb:///{path}"


def _step(url: str, **extra: object) -> dict[str, object]:
    return {"id": "drift", "kind": "drift", "item": "drift_signals", "url": url, "table": "features",
            "column": "tenure", "time_column": "event_time", "current_window": "1d", "reference_window": "7d",
            "retries": 0, **extra}  # fmt: skip


class TestPsi:
    def test_same_distribution_is_near_zero(self) -> None:
        """Two samples of one distribution: PSI well under 0.1."""
        reference, current = samples(0.0)
        assert psi(reference, current) < 0.05

    def test_empty_bins_stay_finite(self) -> None:
        """A current sample entirely above the reference: every low bin empty, PSI large but finite."""
        reference = np.linspace(0, 1, 1000)
        value = psi(reference, reference + 10)
        assert np.isfinite(value)
        assert value > 5

    def test_formula(self) -> None:
        """Two equal-count bins, 70/30 against 50/50: (0.7-0.5)ln(0.7/0.5) + (0.3-0.5)ln(0.3/0.5)."""
        reference = np.array([0.0, 0.0, 1.0, 1.0])
        current = np.array([0.0] * 7 + [1.0] * 3)
        expected = 0.2 * np.log(0.7 / 0.5) - 0.2 * np.log(0.3 / 0.5)
        assert psi(reference, current, bins=2) == pytest.approx(expected)


class TestDriftStep:
    async def test_no_shift_is_ok(self, tmp_path: Path, make_ctx: Callable[..., RunContext]) -> None:
        """Same distribution: ok, with the PSI and KS readings in the detail."""
        url = write_features(tmp_path / "f.duckdb", *samples(0.0))
        result = await run_step(_step(url), make_ctx(now=NOW), side="mlops")
        assert result.state is StepState.OK, result.error
        assert result.detail.startswith("features.tenure: no drift: PSI 0.0")
        assert result.metrics["n_reference"] == N
        assert result.metrics["n_current"] == N
        assert result.asset == Asset(kind=AssetKind.FEATURE, name="features.tenure")

    async def test_small_shift_caught_by_ks_only(
        self, tmp_path: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A 0.25-sigma shift at n=2000: KS p < 0.05 makes it anomalous while PSI is still under 0.1."""
        url = write_features(tmp_path / "f.duckdb", *samples(0.25))
        result = await run_step(_step(url), make_ctx(now=NOW), side="mlops")
        assert result.state is StepState.ANOMALOUS, result.error
        assert result.metrics["psi"] < 0.1
        assert result.metrics["ks_pvalue"] < 0.05
        assert "KS p=" in result.detail
        assert "< 0.05" in result.detail
        assert "> 0.25" not in result.detail

    async def test_large_shift_caught_by_psi(
        self, tmp_path: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A 1-sigma shift: PSI over 0.25."""
        url = write_features(tmp_path / "f.duckdb", *samples(1.0))
        result = await run_step(_step(url), make_ctx(now=NOW), side="mlops")
        assert result.state is StepState.ANOMALOUS
        assert result.metrics["psi"] > 0.25
        assert "> 0.25" in result.detail

    async def test_small_samples_do_not_judge_ks(
        self, tmp_path: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Below min_sample the KS p-value is reported but not judged: a small shift stays ok."""
        url = write_features(tmp_path / "f.duckdb", *samples(0.25, n=400))
        result = await run_step(_step(url), make_ctx(now=NOW), side="mlops")
        assert result.state is StepState.OK
        assert "not judged below n=1000" in result.detail

    async def test_query_form_with_bound_params(
        self, tmp_path: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """The samples can come from two queries; values reach them only as bind parameters."""
        url = write_features(tmp_path / "f.duckdb", *samples(1.0))
        step = {
            "id": "drift", "kind": "drift", "item": "drift_signals", "url": url, "retries": 0,
            "reference_query": "SELECT tenure FROM features WHERE event_time < :current_start AND tenure>:f",
            "current_query": "SELECT tenure FROM features WHERE event_time >= :current_start AND tenure>:f",
            "query_params": {"f": "{floor}"},
        }  # fmt: skip
        result = await run_step(step, make_ctx(now=NOW), side="mlops", params={"floor": "-100"})
        assert result.state is StepState.ANOMALOUS, result.error
        assert result.metrics["n_reference"] == N

    async def test_empty_sample_is_inconclusive(
        self, tmp_path: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Nothing in the current window: unknown, not ok."""
        url = write_features(tmp_path / "f.duckdb", *samples(0.0))
        result = await run_step(_step(url), make_ctx(now=NOW + timedelta(days=30)), side="mlops")
        assert result.state is StepState.INCONCLUSIVE
        assert "has no rows" in result.detail

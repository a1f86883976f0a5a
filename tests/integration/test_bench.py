"""The benchmarks run end to end on a small log (their figures are read by people, never
asserted: this only proves the commands still work against today's domain)."""

from __future__ import annotations

import pytest

from api.bench import bench_ledger, bench_projections
from api.settings import Settings

pytestmark = pytest.mark.integration


def test_ledger_bench_reports_its_ratios_when_run_on_a_small_log(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    bench_ledger(300, settings.postgres_url, proofs=5)
    out = capsys.readouterr().out
    assert "merkle verification" in out and "0 errors" in out


def test_projections_bench_reports_its_ratio_when_run_on_a_small_log(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    bench_projections(2000, settings.postgres_url)
    out = capsys.readouterr().out
    assert "rebuild of public_views" in out and "ratio" in out

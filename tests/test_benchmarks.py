"""The benchmark runs (tiny sizes, no timing assertions) so that it never rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_prints_every_figure_with_its_baseline() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )

    assert done.returncode == 0, done.stderr
    for figure in ("paging", "conversion", "report", "memory (parquet)", "start-up"):
        assert f"\n{figure}" in done.stdout
    assert done.stdout.count("baseline") == 6
    assert done.stdout.count("target:") == 6

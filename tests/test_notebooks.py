"""The example notebooks: committed without outputs, and they run headlessly.

Each notebook starts the sandbox itself (``%arso sandbox start``), so a run
needs no credentials and no network. The executed copies are kept in
``test-artifacts/`` for a look.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from arso_data import constants  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.")


def test_the_two_notebooks_exist() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "monthly-report.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_carries_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)

    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs"
            assert cell.execution_count is None, f"{path.name}: execution count"
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_against_the_sandbox(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        startup_timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )

    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started

    ARTIFACTS.mkdir(exist_ok=True)
    nbformat.write(nb, ARTIFACTS / f"executed-{path.name}")
    text = json.dumps(nb)
    assert constants.SANDBOX_CLIENT_SECRET not in text
    assert not JWT.search(text), "a token reached the notebook's outputs"
    assert list(tmp_path.glob("*.csv")), "the notebook wrote no CSV report"
    assert seconds < 240, f"{path.name} took {seconds:.0f} s"
    print(f"{path.name}: executed in {seconds:.1f} s")


def test_a_failing_magic_stops_run_all(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%load_ext arso\n%arso sandbox start"),
            nbformat.v4.new_code_cell("%arso get no-such-path"),
            nbformat.v4.new_code_cell("reached = True"),
        ]
    )
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )

    with pytest.raises(nbclient.exceptions.CellExecutionError) as caught:
        client.execute()

    assert "UsageError" in str(caught.value)
    assert "HTTP 404" in str(caught.value)
    assert nb.cells[2].outputs == []
    shutil.rmtree(tmp_path, ignore_errors=True)

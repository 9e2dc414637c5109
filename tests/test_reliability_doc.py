"""docs/reliability.md and tests/test_fault_matrix.py cannot drift apart.

Every row of the page's fault table names a test id of the matrix, and every
row of the matrix has its line on the page, with the same request counts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reliability.md"
MATRIX = ROOT / "tests" / "test_fault_matrix.py"


def page_rows() -> dict[str, tuple[int, int]]:
    """Test id -> (token POSTs, GETs) from the page's fault table."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## The fault matrix", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[int, int]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("fault", "---"):
            continue
        test_id = re.fullmatch(r"`([\w-]+)`", cells[4])
        assert test_id, f"no test id in row: {line}"
        assert test_id.group(1) not in rows, f"two rows for {test_id.group(1)}"
        rows[test_id.group(1)] = (int(cells[2]), int(cells[3]))
    return rows


def matrix_rows() -> dict[str, tuple[int, int]]:
    """Test id -> (token POSTs, GETs) from the pytest.param rows of the matrix."""
    rows: dict[str, tuple[int, int]] = {}
    for node in ast.walk(ast.parse(MATRIX.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "param"
        ):
            continue
        ids = [k.value for k in node.keywords if k.arg == "id"]
        (fault,) = node.args
        assert isinstance(fault, ast.Call)
        counts = {k.arg: k.value for k in fault.keywords}
        assert isinstance(ids[0], ast.Constant)
        rows[ids[0].value] = (
            ast.literal_eval(counts["token_posts"]),
            ast.literal_eval(counts["gets"]),
        )
    return rows


def test_every_row_of_the_page_names_a_test_of_the_matrix() -> None:
    page, matrix = page_rows(), matrix_rows()
    assert len(page) >= 25
    assert sorted(set(page) - set(matrix)) == []


def test_every_test_of_the_matrix_has_its_row_on_the_page() -> None:
    page, matrix = page_rows(), matrix_rows()
    assert sorted(set(matrix) - set(page)) == []


def test_the_page_and_the_matrix_give_the_same_request_counts() -> None:
    page, matrix = page_rows(), matrix_rows()
    assert {k: page[k] for k in matrix} == matrix


def test_the_readme_links_the_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/reliability.md)" in readme

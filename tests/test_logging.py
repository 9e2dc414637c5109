"""Data warnings reach the user even when nobody configured logging."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import arso_data
arso_data.to_frame([{"vrednost": "1,5"}, {"vrednost": "x"}, {"vrednost": "2,5"}])
"""


def test_data_warnings_show_without_logging_configuration() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "'vrednost'" in result.stderr
    assert "could not be read" in result.stderr

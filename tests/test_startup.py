"""Start-up: importing the package or the extension loads nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Loaded on first use only (test_magics checks the notebook stack as well).
HEAVY = (
    "IPython",
    "ipywidgets",
    "polars",
    "pyarrow",
    "pandas",
    "tqdm",
    "requests_cache",
    "jwt",
    "flask",
)


def _loaded_after(code: str) -> set[str]:
    script = "\n".join(
        [
            "import sys",
            code,
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(filter(None, done.stdout.strip().split(",")))


@pytest.mark.parametrize("code", ["import arso_data", "import arso"])
def test_import_loads_nothing_heavy(code: str) -> None:
    assert _loaded_after(code) == set()


def test_lazy_names_load_their_module_on_first_use() -> None:
    loaded = _loaded_after(
        "import arso_data\n"
        "assert arso_data.to_frame([{'a': 1}]).shape == (1, 1)\n"
        "assert 'stream_parquet' in dir(arso_data)"
    )

    assert "pandas" in loaded
    assert not loaded & {"polars", "IPython", "flask", "requests_cache"}


def test_an_unknown_name_is_an_attribute_error() -> None:
    import arso_data

    with pytest.raises(AttributeError, match="no_such_name"):
        arso_data.no_such_name  # noqa: B018

"""IPython extension entry point: ``%load_ext arso``.

This module only hands over to :mod:`arso_data.magics`; importing it loads
neither IPython nor the library's heavier parts.
"""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%arso`` and ``%%arso`` magics (called by ``%load_ext``)."""
    from arso_data.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and hooks again (called by ``%unload_ext``)."""
    from arso_data.magics import unload_ipython_extension as unload

    unload(ipython)

"""Fast paths give the same frames and files as the reference code they replace."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arso_data import frames
from arso_data.export import Dialect, read_csv_report, to_csv_report
from arso_data.frames import _reference_paths, to_frame

TZ = "Europe/Ljubljana"


def _both(payload: Any, **kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    fast = to_frame(payload, **kwargs)
    with _reference_paths():
        reference = to_frame(payload, **kwargs)
    return fast, reference


def _series_records(rows: int) -> list[dict[str, Any]]:
    # Two series of local wall times through both DST changes, with decimal
    # commas, gaps, identifiers with leading zeros and a bad value.
    walls = [
        "2024-03-31 01:30",
        "2024-03-31 02:30",  # does not exist
        "2024-03-31 03:00",
        "2024-10-27 01:30",
        "2024-10-27 02:00",
        "2024-10-27 02:30",
        "2024-10-27 02:00",
        "2024-10-27 02:30",
        "2024-10-27 03:00",
    ]
    out = []
    for i in range(rows):
        point = "0012" if i % 2 else "0034"
        value = None if i % 7 == 0 else f"{i % 50},{i % 10}"
        out.append(
            {
                "merilno_mesto": point,
                "cas": walls[(i // 2) % len(walls)],
                "vrednost": "n/a" if i == 5 else value,
                "status": "OK" if value else "NI_PODATKA",
                "veljavna": value is not None,
                "n": i,
            }
        )
    return out


def test_sandbox_shaped_records_give_equal_frames(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from arso_data.sandbox import data

    point = data.POINTS["0012"]
    series = data.Series(point, tuple(point.parametri), 14_000, 14_400)
    records = series.records(0, series.total)
    assert len(records) > frames.DISTINCT_MIN_ROWS

    fast, reference = _both(records)

    pd.testing.assert_frame_equal(fast, reference)
    assert fast["merilno_mesto"].iloc[0] == "0012"
    assert isinstance(fast["cas"].dtype, pd.DatetimeTZDtype)


def test_dst_gaps_and_decimal_commas_give_equal_frames_and_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = _series_records(3 * frames.DISTINCT_MIN_ROWS)
    caplog.set_level(logging.WARNING)
    fast = to_frame(records)
    fast_warnings = [r.getMessage() for r in caplog.records]
    caplog.clear()
    with _reference_paths():
        reference = to_frame(records)
    reference_warnings = [r.getMessage() for r in caplog.records]

    pd.testing.assert_frame_equal(fast, reference)
    assert fast_warnings == reference_warnings
    assert fast["cas"].isna().any()  # the spring gap
    assert fast["vrednost"].dtype == "float64"


@pytest.mark.parametrize(
    "records",
    [
        [{"a": 1, "b": {"c": "0,5"}}, {"a": 2, "b": {"c": "1,5"}}],
        [{"a": "1"}, {"b": "2"}],
        [{"a": "1", "b": "x"}, {"a": "2", "c": "y"}],
        [{}, {}],
        [{"a": [1, 2], "b": None}, {"a": [], "b": "x"}],
        [{"\ufeffa": "1,5", "b": "0123"}],
    ],
)
def test_records_off_the_flat_path_give_equal_frames(
    records: list[dict[str, Any]],
) -> None:
    fast, reference = _both(records)

    pd.testing.assert_frame_equal(fast, reference)


_cells = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "n/a", "0123", "12", "1.234,5", "-0,5", "=1+1"]),
    st.from_regex(r"-?\d{1,4}(,\d{1,3})?", fullmatch=True),
    st.from_regex(r"2024-(03-31|10-27) 0[1-3]:(00|30)", fullmatch=True),
    st.from_regex(r"2024-10-27T0[0-3]:30:00(\+0[12]:00|Z)", fullmatch=True),
    st.text(max_size=4),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.fixed_dictionaries({"id_postaje": _cells, "cas": _cells, "temp": _cells}),
        min_size=1,
        max_size=12,
    )
)
def test_any_flat_records_give_equal_frames(
    monkeypatch: pytest.MonkeyPatch, records: list[dict[str, Any]]
) -> None:
    monkeypatch.setattr(frames, "DISTINCT_MIN_ROWS", 0)
    monkeypatch.setattr(frames, "DISTINCT_SHARE", 1.0)
    logging.disable(logging.WARNING)
    try:
        fast, reference = _both(records)
    finally:
        logging.disable(logging.NOTSET)

    pd.testing.assert_frame_equal(fast, reference)


# -- reports -------------------------------------------------------------------


def _cycled(values: list[Any], rows: int) -> list[Any]:
    return [values[i % len(values)] for i in range(rows)]


def _report_frame(rows: int) -> pd.DataFrame:
    utc = pd.date_range("2024-10-26T22:00Z", periods=rows, freq="30min")
    times = pd.Series(utc.tz_convert(TZ).as_unit("us"))
    times[3] = pd.NaT
    return pd.DataFrame(
        {
            "merilno_mesto": pd.Series(
                _cycled(["0012", "=cmd", "a;b", 'q"q'], rows), dtype="str"
            ),
            "cas": times,
            "datum": pd.Series(times.dt.tz_localize(None).dt.normalize()),
            "vrednost": pd.Series(np.linspace(-1, 1, rows)).where(
                lambda s: s.index % 5 != 0
            ),
            "tiny": _cycled([1e-05, 1.5e-07, 0.0001, 1e16, -0.0], rows),
            "n": pd.array(range(rows), dtype="Int64"),
            "ok": pd.array(_cycled([True, None, False], rows), dtype="boolean"),
            "obj": pd.Series(_cycled([[1, 2], {"a": "é"}, None, "x\ry"], rows)),
            "text": pd.Series(_cycled(["", None, "line\nbreak", "  "], rows)).astype(
                "str"
            ),
        }
    )


def _reports(frame: pd.DataFrame, folder: Path, **kwargs: Any) -> tuple[bytes, bytes]:
    fast = to_csv_report(frame, folder / "fast.csv", **kwargs).read_bytes()
    with _reference_paths():
        reference = to_csv_report(frame, folder / "ref.csv", **kwargs).read_bytes()
    return fast, reference


@pytest.mark.parametrize("dialect", ["sl", "plain"])
def test_polars_report_has_the_reference_bytes(
    tmp_path: Path, dialect: Dialect
) -> None:
    frame = _report_frame(40)

    fast, reference = _reports(frame, tmp_path, dialect=dialect)

    assert fast == reference
    pd.testing.assert_frame_equal(
        read_csv_report(tmp_path / "fast.csv", dialect=dialect),
        read_csv_report(tmp_path / "ref.csv", dialect=dialect),
    )


def test_fractional_seconds_are_written_alike(tmp_path: Path) -> None:
    frame = _report_frame(8)
    frame.loc[2, "cas"] = frame.loc[2, "cas"] + pd.Timedelta(microseconds=5)

    fast, reference = _reports(frame, tmp_path)

    assert fast == reference
    assert b".000005+" in fast


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    floats=st.lists(st.floats(allow_nan=True), min_size=2, max_size=8),
    texts=st.lists(st.text(max_size=6) | st.none(), min_size=2, max_size=8),
    stamps=st.lists(
        st.integers(1_711_839_600, 1_730_000_000) | st.none(), min_size=2, max_size=8
    ),
)
def test_any_columns_give_the_reference_bytes(
    tmp_path: Path,
    floats: list[float],
    texts: list[str | None],
    stamps: list[int | None],
) -> None:
    rows = min(len(floats), len(texts), len(stamps))
    seconds = pd.Series(stamps[:rows], dtype="float64")
    frame = pd.DataFrame(
        {
            "f": pd.Series(floats[:rows], dtype="float64"),
            "t": pd.Series(texts[:rows], dtype="str"),
            "c": pd.to_datetime(seconds, unit="s", utc=True)
            .dt.tz_convert(TZ)
            .dt.as_unit("us"),
        }
    )

    fast, reference = _reports(frame, tmp_path)

    assert fast == reference
    if any(isinstance(v, float) and math.isinf(v) for v in floats[:rows]):
        assert b"inf" in fast


def test_without_polars_the_reference_writer_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    frame = _report_frame(8)
    with _reference_paths():
        reference = to_csv_report(frame, tmp_path / "ref.csv").read_bytes()
    monkeypatch.setitem(sys.modules, "polars", None)
    caplog.set_level(logging.DEBUG, logger="arso_data.export")

    written = to_csv_report(frame, tmp_path / "r.csv").read_bytes()

    assert written == reference
    assert any("polars is not installed" in r.getMessage() for r in caplog.records)

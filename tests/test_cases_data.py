"""The data cases of /work/shared/cases (C11-C18): exact inputs, exact answers."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arso_data.export import to_csv_report
from arso_data.frames import decode_json, to_frame

C11_BODY = """
[{"id_postaje":"0123","ime":"Ljubljana - Bežigrad","wmo_id":"14015","meritev_id":"202412010000000013","temp":"1,2"},
 {"id_postaje":"0456","ime":"Celje","wmo_id":"14026","meritev_id":"202412010000000023","temp":"-0,4"}]
"""  # noqa: E501

C12_BODY = """
[{"cas":"2025-01-15 13:00","temp":"41,3","padavine":"0,0"},
 {"cas":"2025-01-15 14:00","temp":"","padavine":null},
 {"cas":"2025-01-15 15:00","temp":"-0,5","padavine":12.5},
 {"cas":"2025-01-15 16:00","temp":null,"padavine":"3"},
 {"cas":"2025-01-15 17:00","temp":"n/a","padavine":"1,25"}]
"""

C13_BODY = """
[{"id_postaje":"0123","ime":"Ljubljana","meritve":[{"cas":"2025-01-15 13:00","temp":"1,2"}]},
 {"id_postaje":"0456","ime":"Maribor","meritve":[]},
 {"id_postaje":"0789","ime":"Koper"}]
"""  # noqa: E501

C14_API_ORDER = ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
C14_UTC = pd.to_datetime(
    [
        "2024-10-26T23:30Z",
        "2024-10-27T00:00Z",
        "2024-10-27T00:30Z",
        "2024-10-27T01:00Z",
        "2024-10-27T01:30Z",
        "2024-10-27T02:00Z",
    ],
    utc=True,
)

C16_BODY = """
[{"postaja":"Črnomelj - Dobliče","datum":"2025-01-15","temp":"41,3","padavine":"0,0"},
 {"postaja":"Šmartno pri Slovenj Gradcu","datum":"2025-01-15","temp":"","padavine":"12,5"},
 {"postaja":"Žiri","datum":"2025-01-15","temp":"-2,0","padavine":null}]
"""  # noqa: E501
C16_BYTES = (
    b"\xef\xbb\xbfpostaja;datum;temp;padavine\r\n"
    b"\xc4\x8crnomelj - Dobli\xc4\x8de;2025-01-15;41,3;0,0\r\n"
    b"\xc5\xa0martno pri Slovenj Gradcu;2025-01-15;;12,5\r\n"
    b"\xc5\xbdiri;2025-01-15;-2,0;\r\n"
)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def _c14_rows(times: list[str]) -> list[dict[str, str]]:
    return [{"cas": f"2024-10-27 {t}", "temp": "1,0"} for t in times]


def test_c11_ids_keep_leading_zeros() -> None:
    df = to_frame(json.loads(C11_BODY))

    assert df["id_postaje"].tolist() == ["0123", "0456"]
    assert df["wmo_id"].tolist() == ["14015", "14026"]
    assert df["meritev_id"].tolist() == ["202412010000000013", "202412010000000023"]
    for name in ("id_postaje", "wmo_id", "meritev_id"):
        dtype = df[name].dtype
        assert dtype is np.dtype(object) or isinstance(dtype, pd.StringDtype)
    assert df["temp"].dtype == "float64"
    assert df["temp"].tolist() == [1.2, -0.4]
    assert df["ime"][0] == "Ljubljana - Bežigrad"


def test_c12_decimal_commas_and_empty_strings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)

    df = to_frame(json.loads(C12_BODY))

    assert df["temp"].dtype == "float64"
    assert df["padavine"].dtype == "float64"
    np.testing.assert_array_equal(df["temp"], [41.3, np.nan, -0.5, np.nan, np.nan])
    np.testing.assert_array_equal(df["padavine"], [0.0, np.nan, 12.5, 3.0, 1.25])
    assert not (df[["temp", "padavine"]] == 413.0).any().any()
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "'temp'" in warnings[0]
    assert "1 value" in warnings[0]
    assert "n/a" in warnings[0]


def test_c13_nested_records_keep_empty_and_missing() -> None:
    meta = ["id_postaje", "ime"]
    schema = {"cas": "datetime", "temp": "float"}

    df = to_frame(json.loads(C13_BODY), record_path="meritve", meta=meta)
    empty = to_frame([], record_path="meritve", meta=meta, schema=schema)

    assert list(df.columns) == ["id_postaje", "ime", "cas", "temp"]
    assert df["id_postaje"].tolist() == ["0123", "0456", "0789"]
    assert df["ime"].tolist() == ["Ljubljana", "Maribor", "Koper"]
    assert df["cas"].iloc[0] == pd.Timestamp("2025-01-15 13:00", tz="Europe/Ljubljana")
    assert df["cas"].iloc[1:].isna().all()
    assert df["temp"].iloc[0] == 1.2
    assert df["temp"].iloc[1:].isna().all()
    assert empty.empty
    assert list(empty.columns) == ["id_postaje", "ime", "cas", "temp"]
    assert str(empty["cas"].dtype) == "datetime64[us, Europe/Ljubljana]"
    assert empty["temp"].dtype == "float64"


def test_c14_autumn_repeated_hour_a_api_order() -> None:
    df = to_frame(_c14_rows(C14_API_ORDER))

    times = df["cas"]
    assert str(times.dt.tz) == "Europe/Ljubljana"
    assert times.dt.tz_convert("UTC").tolist() == C14_UTC.tolist()
    offsets = [t.strftime("%z") for t in times]
    assert offsets == ["+0200", "+0200", "+0200", "+0100", "+0100", "+0100"]
    assert times.is_monotonic_increasing
    assert times.is_unique


def test_c14_autumn_repeated_hour_b_newest_first() -> None:
    df = to_frame(_c14_rows(C14_API_ORDER[::-1]))

    assert df["cas"].dt.tz_convert("UTC").tolist() == C14_UTC[::-1].tolist()


def test_c14_autumn_repeated_hour_c_lone_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)

    df = to_frame(_c14_rows(["02:30"]))

    assert df["cas"].isna().tolist() == [True]
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "2024-10-27 02:30" in warnings[0]


def test_c16_csv_bytes_for_slovenian_excel(tmp_path: Path) -> None:
    df = to_frame(json.loads(C16_BODY))

    written = to_csv_report(df, tmp_path / "porocilo.csv")

    assert written.read_bytes() == C16_BYTES


def test_c18_bom_json() -> None:
    body = b"\xef\xbb\xbf" + b'[{"postaja":"Novo mesto","temp":"12,4"}]'

    df = to_frame(decode_json(body, content_type="application/json; charset=utf-8"))

    assert len(df) == 1
    assert list(df.columns) == ["postaja", "temp"]
    assert not any(name.startswith("\ufeff") for name in df.columns)
    assert df["postaja"][0] == "Novo mesto"
    assert df["temp"].dtype == "float64"
    assert df["temp"][0] == 12.4

"""export: CSV reports for Slovenian Excel, the plain dialect, round trips."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arso_data import export
from arso_data.errors import ConfigError
from arso_data.export import Dialect, read_csv_report, to_csv_report
from arso_data.frames import to_frame

TZ = "Europe/Ljubljana"
BOM = b"\xef\xbb\xbf"


def _instants(*utc: str | None) -> pd.Series:
    times = pd.to_datetime(list(utc), utc=True, format="ISO8601")
    times = times.tz_convert(TZ).as_unit("us")
    return pd.Series(times)


def _mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "postaja": pd.Series(["Bled", "Žiri", None], dtype="str"),
            "cas": _instants("2024-10-27T00:30Z", "2024-10-27T01:30Z", None),
            "datum": pd.to_datetime(["2025-01-15", None, "2025-03-30"]).as_unit("us"),
            "temp": [41.3, np.nan, -2.0],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "ok": pd.array([True, None, False], dtype="boolean"),
        }
    )


def _files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# -- the Slovenian dialect ---------------------------------------------------


def test_sl_report_has_bom_semicolons_decimal_commas_and_crlf(tmp_path: Path) -> None:
    path = to_csv_report(_mixed_frame(), tmp_path / "r.csv")

    assert path == tmp_path / "r.csv"
    assert path.read_bytes().decode("utf-8") == (
        "\ufeffpostaja;cas;datum;temp;n;ok\r\n"
        "Bled;2024-10-27T02:30:00+02:00;2025-01-15;41,3;1;True\r\n"
        "Žiri;2024-10-27T02:30:00+01:00;;;;\r\n"
        ";;2025-03-30;-2,0;3;False\r\n"
    )


@pytest.mark.parametrize(
    ("value", "cell"),
    [(41.3, "41,3"), (0.0, "0,0"), (-2.0, "-2,0"), (12.5, "12,5"), (0.1 + 0.2,
     "0,30000000000000004"), (1e16, "1e+16"), (1.5e-7, "1,5e-07")],
)  # fmt: skip
def test_floats_are_written_shortest_with_decimal_comma(
    tmp_path: Path, value: float, cell: str
) -> None:
    path = to_csv_report(pd.DataFrame({"v": [value]}), tmp_path / "r.csv")

    assert path.read_bytes() == BOM + f"v\r\n{cell}\r\n".encode()


def test_fractions_of_a_second_are_kept(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {"cas": _instants("2025-01-15T10:00:00.25Z", "2025-01-15T10:00Z")}
    )

    text = to_csv_report(df, tmp_path / "r.csv").read_text("utf-8-sig")

    assert text.splitlines()[1:] == [
        "2025-01-15T11:00:00.250000+01:00",
        "2025-01-15T11:00:00.000000+01:00",
    ]


def test_naive_times_with_a_clock_keep_it(tmp_path: Path) -> None:
    walls = pd.to_datetime(["2025-01-15 10:30", "2025-01-16"], format="ISO8601")
    df = pd.DataFrame({"t": walls})

    text = to_csv_report(df, tmp_path / "r.csv").read_text("utf-8-sig")

    assert text.splitlines()[1:] == ["2025-01-15T10:30:00", "2025-01-16T00:00:00"]


def test_fields_are_quoted_only_where_needed(tmp_path: Path) -> None:
    df = pd.DataFrame({"opis": ["a;b", 'rekel "da"', "vrstica\nnova", "1,5 mm", "x"]})

    text = to_csv_report(df, tmp_path / "r.csv").read_bytes().decode("utf-8-sig")

    assert text == (
        'opis\r\n"a;b"\r\n"rekel ""da"""\r\n"vrstica\nnova"\r\n1,5 mm\r\nx\r\n'
    )


def test_index_is_written_only_when_asked(tmp_path: Path) -> None:
    df = pd.DataFrame({"v": [1.5]}, index=pd.Index(["Bled"], name="postaja"))

    without = to_csv_report(df, tmp_path / "a.csv").read_text("utf-8-sig")
    with_index = to_csv_report(df, tmp_path / "b.csv", index=True).read_text(
        "utf-8-sig"
    )

    assert without == "v\n1,5\n"
    assert with_index == "postaja;v\nBled;1,5\n"


def test_lists_and_objects_are_written_as_json(tmp_path: Path) -> None:
    df = to_frame([{"parametri": ["T", "RH"], "x": [{"a": 1.5}]}])

    text = to_csv_report(df, tmp_path / "r.csv").read_text("utf-8-sig")

    assert text.splitlines()[1] == '"[""T"", ""RH""]";"[{""a"": 1.5}]"'


def test_empty_frame_writes_the_header(tmp_path: Path) -> None:
    df = to_frame([], schema={"postaja": "id", "temp": "float"})

    path = to_csv_report(df, tmp_path / "r.csv")

    assert path.read_bytes() == BOM + b"postaja;temp\r\n"


# -- the formula guard -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", '"\'\rx"'),
        ("'=1", "''=1"),
        ("a=b", "a=b"),
        ("'quoted'", "'quoted'"),
    ],
)
def test_text_that_could_be_a_formula_is_guarded(
    tmp_path: Path, text: str, cell: str
) -> None:
    df = pd.DataFrame({"opis": pd.Series([text], dtype="str")})

    written = to_csv_report(df, tmp_path / "r.csv").read_bytes().decode("utf-8-sig")

    assert written == f"opis\r\n{cell}\r\n"


def test_numbers_are_never_guarded(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {"v": [-2.0], "n": [-3], "o": pd.Series([-1.5], dtype=object)},
    )

    written = to_csv_report(df, tmp_path / "r.csv").read_text("utf-8-sig")

    assert written.splitlines()[1] == "-2,0;-3;-1,5"


def test_text_in_object_columns_and_column_names_are_guarded(tmp_path: Path) -> None:
    df = pd.DataFrame({"=cmd": pd.Series(["@x", 5, None], dtype=object)})

    written = to_csv_report(df, tmp_path / "r.csv").read_text("utf-8-sig")

    # A lone empty field is written "" (the csv module's way to keep the row).
    assert written.splitlines() == ["'=cmd", "'@x", "5", '""']


# -- the plain dialect -------------------------------------------------------


def test_plain_dialect_is_pandas_csv(tmp_path: Path) -> None:
    path = to_csv_report(_mixed_frame(), tmp_path / "r.csv", dialect="plain")

    assert path.read_bytes().decode("utf-8") == (
        "postaja,cas,datum,temp,n,ok\n"
        "Bled,2024-10-27T02:30:00+02:00,2025-01-15,41.3,1,True\n"
        "Žiri,2024-10-27T02:30:00+01:00,,,,\n"
        ",,2025-03-30,-2.0,3,False\n"
    )


def test_plain_dialect_guards_and_quotes_commas(tmp_path: Path) -> None:
    df = pd.DataFrame({"opis": ["=1+1", "a,b"]})

    written = to_csv_report(df, tmp_path / "r.csv", dialect="plain").read_bytes()

    assert written == b'opis\n\'=1+1\n"a,b"\n'


@pytest.mark.parametrize("dialect", ["sl", "plain"])
def test_a_lone_carriage_return_is_quoted(tmp_path: Path, dialect: Dialect) -> None:
    # The csv module leaves it bare when the line end is "\n"; readers then
    # see a row break.
    df = pd.DataFrame({"a": ["x\ry", "z"], "b": [1.5, 2.5]})

    path = to_csv_report(df, tmp_path / "r.csv", dialect=dialect)

    assert '"x\ry"' in path.read_bytes().decode("utf-8-sig")
    pd.testing.assert_frame_equal(read_csv_report(path, dialect=dialect), df)


def test_unknown_dialect_is_a_config_error(tmp_path: Path) -> None:
    unknown: Any = "excel"
    with pytest.raises(ConfigError, match="excel"):
        to_csv_report(_mixed_frame(), tmp_path / "r.csv", dialect=unknown)


# -- writing whole or not at all ---------------------------------------------


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("cannot format this cell")


def test_failed_formatting_mid_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.csv"
    target.write_bytes(b"old report")
    monkeypatch.setattr(export, "CHUNK_ROWS", 1)  # the first row is written first
    df = pd.DataFrame({"x": pd.Series(["ok", _Unprintable()], dtype=object)})

    with pytest.raises(RuntimeError, match="cannot format"):
        to_csv_report(df, target)

    assert target.read_bytes() == b"old report"
    assert _files(tmp_path) == ["r.csv"]


def test_failed_replace_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.csv"
    target.write_bytes(b"old report")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError("the file is open in Excel")

    monkeypatch.setattr(os, "replace", refuse)

    with pytest.raises(PermissionError, match="Excel"):
        to_csv_report(_mixed_frame(), target)

    assert target.read_bytes() == b"old report"
    assert _files(tmp_path) == ["r.csv"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ni"

    with pytest.raises(FileNotFoundError, match="folder") as caught:
        to_csv_report(_mixed_frame(), folder / "r.csv")

    assert caught.value.filename == str(folder)
    assert not folder.exists()


def test_existing_report_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_bytes(b"old report")

    to_csv_report(pd.DataFrame({"v": [1.5]}), target)

    assert target.read_bytes() == BOM + b"v\r\n1,5\r\n"
    assert _files(tmp_path) == ["r.csv"]


# -- round trips -------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sl", "plain"])
def test_round_trip_gives_back_equal_data(tmp_path: Path, dialect: Dialect) -> None:
    df = _mixed_frame()
    df["opis"] = pd.Series(["=SUM(A1)", "a;b\r\nc", "-x"], dtype="str")

    path = to_csv_report(df, tmp_path / "r.csv", dialect=dialect)
    back = read_csv_report(path, dialect=dialect)

    pd.testing.assert_frame_equal(back, df)


def test_round_trip_keeps_identifiers_as_text(tmp_path: Path) -> None:
    df = to_frame([{"id_postaje": "0123", "wmo_id": "14015", "stevilka": "0456"}])

    back = read_csv_report(to_csv_report(df, tmp_path / "r.csv"))

    pd.testing.assert_frame_equal(back, df)


def test_read_with_schema_overrides_the_guess(tmp_path: Path) -> None:
    df = pd.DataFrame({"koda": [1, 2], "v": ["1", "2"]})
    path = to_csv_report(df, tmp_path / "r.csv")

    back = read_csv_report(path, schema={"koda": "int", "v": "str"})

    assert back["koda"].tolist() == [1, 2]
    assert back["v"].tolist() == ["1", "2"]


_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from("\t\r\n;,\"'=+-@"),
    min_size=1,
    max_size=12,
)
_INSTANTS = st.datetimes(
    min_value=dt.datetime(1990, 1, 1),
    max_value=dt.datetime(2040, 12, 31),
    timezones=st.just(dt.UTC),
)
# Around the autumn and spring changes, where the offset flips.
_DST_INSTANTS = st.sampled_from(["2024-10-27", "2024-03-31"]).flatmap(
    lambda day: st.integers(0, 4 * 3600 - 1).map(
        lambda s: (
            dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
            + dt.timedelta(seconds=s)
        )
    )
)
_ROWS = st.lists(
    st.tuples(
        st.none() | st.floats(allow_nan=False),
        st.none() | _TEXT,
        st.none() | _INSTANTS | _DST_INSTANTS,
        st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
        st.none() | st.integers(-(10**15) + 1, 10**15 - 1),
        st.none() | st.booleans(),
    ),
    max_size=8,
)


def _frame_of(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    # A first row with every value, so no column is all missing (a column
    # with no values comes back as float64, as pandas reads it).
    first = (1.5, "Žiri", dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.UTC),
             dt.date(2025, 1, 15), 7, True)  # fmt: skip
    f, s, t, d, i, b = zip(first, *rows, strict=True)
    ints = pd.array(list(i), dtype="Int64")
    return pd.DataFrame(
        {
            "f": pd.Series(f, dtype="float64"),
            "s": pd.Series(s, dtype="str"),
            "t": pd.Series(pd.to_datetime(list(t), utc=True)).dt.tz_convert(TZ),
            "d": pd.Series(pd.to_datetime(list(d))),
            "i": ints if ints.isna().any() else ints.astype("int64"),
            "b": pd.array(list(b), dtype="boolean"),
        }
    ).astype({"t": f"datetime64[us, {TZ}]", "d": "datetime64[us]"})


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=_ROWS, dialect=st.sampled_from(["sl", "plain"]))
def test_round_trip_property(
    tmp_path: Path, rows: list[tuple[object, ...]], dialect: Dialect
) -> None:
    df = _frame_of(rows)

    path = to_csv_report(df, tmp_path / "r.csv", dialect=dialect)
    back = read_csv_report(path, dialect=dialect)

    pd.testing.assert_frame_equal(back, df)


@pytest.mark.parametrize("name", [".", ""])
def test_a_folder_as_report_path_is_refused_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    df = pd.DataFrame({"a": [1.5]})
    for target in (name, tmp_path):
        with pytest.raises(IsADirectoryError, match="folder"):
            to_csv_report(df, target)
    assert list(tmp_path.iterdir()) == []

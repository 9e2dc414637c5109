"""frames: finding records, flattening, dtypes, times and JSON decoding."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from arso_data.errors import ConfigError, ResponseError
from arso_data.frames import decode_json, find_records, to_frame

TZ = "Europe/Ljubljana"
ROWS = [{"id": 1, "ime": "Bled"}, {"id": 2, "ime": "Bohinj"}]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# -- finding records ---------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        ROWS,
        {"content": ROWS, "totalElements": 2, "pageable": {"pageNumber": 0}},
        {"items": ROWS, "links": []},
        {"data": ROWS, "links": {"next": None}},
        {"results": ROWS, "count": 2},
        {"value": ROWS},
        {"postaje": ROWS, "stevilo": 2},
        {"data": {"items": ROWS, "total": 2}},
        {"_embedded": {"postaje": ROWS}, "_links": {}},
    ],
)
def test_records_are_found_in_wrappers(payload: object) -> None:
    assert find_records(payload) == ROWS


def test_wrapper_key_wins_over_other_lists() -> None:
    payload = {"content": ROWS, "sort": [{"property": "ime"}]}

    assert find_records(payload) == ROWS


def test_empty_wrapper_list_means_no_records() -> None:
    assert find_records({"content": [], "totalElements": 0}) == []
    assert find_records(None) == []


def test_ambiguous_lists_name_the_keys_and_record_path() -> None:
    payload = {"postaje": ROWS, "parametri": [{"id": "T"}]}

    with pytest.raises(ResponseError) as caught:
        find_records(payload)

    message = str(caught.value)
    assert "'postaje'" in message
    assert "'parametri'" in message
    assert "record_path" in message


def test_explicit_dotted_record_path_picks_the_list() -> None:
    payload = {"postaje": ROWS, "data": {"items": [{"id": 3}]}}

    assert find_records(payload, "data.items") == [{"id": 3}]
    assert find_records(payload, ["data", "items"]) == [{"id": 3}]


def test_missing_record_path_is_an_error_naming_the_keys() -> None:
    with pytest.raises(ResponseError, match="'data.items'.*'postaje'"):
        find_records({"postaje": ROWS}, "data.items")


def test_single_object_is_one_record() -> None:
    record = {"id": "0012", "ime": "Bled", "tags": ["a", "b"]}

    assert find_records(record) == [record]


def test_bare_value_is_not_records() -> None:
    with pytest.raises(ResponseError, match="single str"):
        find_records("OK")


def test_children_of_a_list_of_parents_are_found_by_record_path() -> None:
    parents = [{"id": "1", "meritve": [{"t": 1}, {"t": 2}]}, {"id": "2"}]

    assert find_records(parents, "meritve") == [{"t": 1}, {"t": 2}]


def test_empty_record_path_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        find_records(ROWS, "a..b")


# -- flattening and exploding ------------------------------------------------


def test_nested_objects_become_dotted_columns() -> None:
    body = [
        {
            "id": "7",
            "organizacija": {"naziv": "ARSO", "naslov": {"posta": "1000"}},
            "lokacija": {"lat": 46.06, "lon": 14.51},
        }
    ]

    df = to_frame(body)

    assert list(df.columns) == [
        "id",
        "organizacija.naziv",
        "organizacija.naslov.posta",
        "lokacija.lat",
        "lokacija.lon",
    ]
    assert df["lokacija.lat"].dtype == "float64"
    assert df["organizacija.naslov.posta"][0] == "1000"


def test_lists_stay_lists() -> None:
    body = [{"ime": "Bled", "parametri": ["T", "RH"], "senzorji": [{"id": 1}]}]

    df = to_frame(body)

    assert df["parametri"][0] == ["T", "RH"]
    assert df["senzorji"][0] == [{"id": 1}]


def test_child_column_with_a_parent_name_gets_the_record_path_prefix() -> None:
    body = [{"id": "1", "ime": "Bled", "meritve": [{"id": "m1", "temp": 3.5}]}]

    df = to_frame(body, record_path="meritve", meta=["id", "ime"])

    assert list(df.columns) == ["id", "ime", "meritve.id", "temp"]
    assert df["meritve.id"][0] == "m1"


def test_explode_without_meta_keeps_all_parent_fields() -> None:
    body = [{"id": "1", "lokacija": {"lat": 46.0}, "meritve": [{"t": 1}, {"t": 2}]}]

    df = to_frame(body, record_path="meritve")

    assert list(df.columns) == ["id", "lokacija.lat", "t"]
    assert df["t"].tolist() == [1, 2]


def test_meta_from_the_wrapper_is_repeated_on_each_row() -> None:
    body = {"postaja": {"id": "0012", "ime": "Bled"}, "meritve": [{"t": 1}, {"t": 2}]}

    df = to_frame(body, record_path="meritve", meta=["postaja.id"])

    assert df["postaja.id"].tolist() == ["0012", "0012"]
    assert df["t"].tolist() == [1, 2]


def test_record_path_below_an_automatic_wrapper_explodes_parents() -> None:
    body = {"content": [{"id": "1", "meritve": [{"t": 1}]}, {"id": "2"}]}

    df = to_frame(body, record_path="meritve", meta=["id"])

    assert df["id"].tolist() == ["1", "2"]
    assert df["t"].isna().tolist() == [False, True]


def test_bom_inside_a_key_never_reaches_a_column_name() -> None:
    df = to_frame([{"\ufeffpostaja": "Bled"}])

    assert list(df.columns) == ["postaja"]


# -- empty results and schema ------------------------------------------------


@pytest.mark.parametrize("payload", [[], None, {"content": []}, {"data": []}])
def test_empty_payload_gives_empty_frame(payload: object) -> None:
    df = to_frame(payload)

    assert df.empty
    assert list(df.columns) == []


def test_schema_gives_an_empty_result_its_columns_and_dtypes() -> None:
    schema = {
        "postaja": "id",
        "cas": "datetime",
        "datum": "date",
        "temp": "float",
        "n": "int",
        "veljavno": "bool",
        "opombe": "json",
    }

    df = to_frame({"content": []}, schema=schema)

    assert list(df.columns) == list(schema)
    dtypes = df.dtypes.astype(str).tolist()
    assert dtypes == [
        "str",
        f"datetime64[us, {TZ}]",
        "datetime64[us]",
        "float64",
        "Int64",
        "boolean",
        "object",
    ]


def test_schema_forces_dtypes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    body = [
        {"sifra": 12, "v": "1,5", "n": "3", "ok": "da", "kdaj": "2025-01-15T10:00Z"},
        {"sifra": 13, "v": 2, "n": 4.0, "ok": False, "kdaj": "2025-01-16"},
    ]
    schema = {
        "sifra": "str",
        "v": "float",
        "n": "int",
        "ok": "bool",
        "kdaj": "date",
        "manjka": "float",
    }

    df = to_frame(body, schema=schema)

    assert df["sifra"].tolist() == ["12", "13"]
    assert df["v"].tolist() == [1.5, 2.0]
    assert df["n"].dtype == "Int64"
    assert df["n"].tolist() == [3, 4]
    assert df["ok"].dtype == "boolean"
    assert df["ok"].tolist() == [True, False]
    assert df["kdaj"].tolist() == [
        pd.Timestamp("2025-01-15"),
        pd.Timestamp("2025-01-16"),
    ]
    assert df["manjka"].isna().all()
    assert _warnings(caplog) == []


def test_schema_datetime_reads_dates_as_local_midnight() -> None:
    df = to_frame([{"x": "2025-01-15"}], schema={"x": "datetime"})

    assert df["x"][0] == pd.Timestamp("2025-01-15", tz=TZ)


def test_schema_int_with_fractions_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)

    df = to_frame([{"n": "1,5"}, {"n": "2"}, {"n": 2.5}], schema={"n": "int"})

    assert df["n"].isna().tolist() == [True, False, True]
    assert len(_warnings(caplog)) == 1


def test_unknown_schema_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="decimal"):
        to_frame(ROWS, schema={"id": "decimal"})


def test_attrs_are_merged() -> None:
    attrs = {"env": "sandbox", "url": "http://127.0.0.1/api", "params": {"a": "1"}}

    df = to_frame(ROWS, attrs=attrs)

    assert df.attrs == attrs


# -- scalars -----------------------------------------------------------------


def test_json_scalars_keep_their_kind() -> None:
    body = [
        {"n": 1, "m": 1, "x": 1.5, "b": True, "c": True},
        {"n": 2, "m": None, "x": 2, "b": False, "c": None},
    ]

    df = to_frame(body)

    assert df.dtypes.astype(str).tolist() == [
        "int64",
        "Int64",
        "float64",
        "boolean",
        "boolean",
    ]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("41,3", 41.3),
        ("-0,5", -0.5),
        ("3", 3.0),
        ("12.5", 12.5),
        (" 7,25 ", 7.25),
        ("1.234,5", 1234.5),
        ("-12.345.678,9", -12345678.9),
        ("1e3", 1000.0),
    ],
)
def test_numbers_in_text(text: str, number: float) -> None:
    df = to_frame([{"v": text}, {"v": "1,0"}])

    assert df["v"].dtype == "float64"
    assert df["v"][0] == number


def test_comma_is_never_a_thousands_separator(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)

    df = to_frame([{"v": "1,234"}, {"v": "1,234.5"}, {"v": "2"}, {"v": "3"}])

    assert df["v"][0] == 1.234
    assert np.isnan(df["v"][1])
    assert len(_warnings(caplog)) == 1


def test_mostly_text_stays_text() -> None:
    df = to_frame([{"opis": "Bled"}, {"opis": "12"}])

    assert df["opis"].tolist() == ["Bled", "12"]
    assert isinstance(df["opis"].dtype, pd.StringDtype)


def test_numbers_and_text_mixed_in_json() -> None:
    df = to_frame([{"v": 1}, {"v": "2,5"}, {"v": 3.5}, {"v": None}])

    assert df["v"].tolist()[:3] == [1.0, 2.5, 3.5]


@pytest.mark.parametrize(
    "name",
    ["id", "postaja_id", "id_postaje", "sifra", "postaje_sifra", "koda", "code",
     "wmo", "wmo_stevilka", "maticna", "emso", "davcna_st", "postna_st", "stationId",
     "organizacija.sifra"],
)  # fmt: skip
def test_identifier_names_keep_text(name: str) -> None:
    df = to_frame([{name: "12"}, {name: "13"}])

    assert df[name].tolist() == ["12", "13"]


@pytest.mark.parametrize("value", ["0123", "12345678901234567"])
def test_identifier_values_keep_text(value: str) -> None:
    df = to_frame([{"stevilka": value}, {"stevilka": "5"}])

    assert df["stevilka"].tolist() == [value, "5"]


def test_all_null_columns_take_a_dtype_from_their_name() -> None:
    df = to_frame([{"id": None, "cas": None, "x": None}])

    assert isinstance(df["id"].dtype, pd.StringDtype)
    assert str(df["cas"].dtype) == f"datetime64[us, {TZ}]"
    assert df["x"].dtype == object


# -- times -------------------------------------------------------------------


def test_offsets_across_dst_are_instants() -> None:
    body = [
        {"cas": "2024-10-27T02:30:00+02:00"},
        {"cas": "2024-10-27T02:30:00+01:00"},
        {"cas": "2024-10-27T01:30:00Z"},
    ]

    times = to_frame(body)["cas"]

    assert str(times.dt.tz) == TZ
    assert times.dt.tz_convert("UTC").tolist() == [
        pd.Timestamp("2024-10-27T00:30Z"),
        pd.Timestamp("2024-10-27T01:30Z"),
        pd.Timestamp("2024-10-27T01:30Z"),
    ]


def test_iso_date_times_are_found_without_a_time_name() -> None:
    df = to_frame([{"veljavno": "2025-01-15T10:00:00Z"}, {"veljavno": None}])

    assert str(df["veljavno"].dtype) == f"datetime64[us, {TZ}]"


def test_dates_without_a_time_name_stay_text() -> None:
    df = to_frame([{"opis": "2025-01-15"}])

    assert df["opis"][0] == "2025-01-15"


def test_dates_in_a_date_column_stay_dates() -> None:
    df = to_frame([{"datum": "2025-01-15"}, {"datum": "2025-03-30"}])

    assert str(df["datum"].dtype) == "datetime64[us]"
    assert df["datum"].tolist() == [
        pd.Timestamp("2025-01-15"),
        pd.Timestamp("2025-03-30"),
    ]


def test_spring_gap_is_missing_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    walls = ["01:30", "02:00", "02:30", "03:00"]

    df = to_frame([{"cas": f"2024-03-31 {t}"} for t in walls])

    assert df["cas"].isna().tolist() == [False, True, True, False]
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "2024-03-31 02:00" in warnings[0]
    assert "2024-03-31 02:30" in warnings[0]


def test_unreadable_times_warn_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)

    body = [
        {"cas": "2025-01-15 10:00"},
        {"cas": "včeraj"},
        {"cas": ""},
        {"cas": "2025"},
    ]
    body += [{"cas": "2025-01-15T11:00:00+01:00"}, {"cas": "2025-01-15 12:00"}]

    df = to_frame(body)

    assert df["cas"].isna().tolist() == [False, True, True, True, False, False]
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "2 value" in warnings[0]
    assert "včeraj" in warnings[0]


def test_repeated_hour_is_resolved_per_station() -> None:
    # Two stations interleaved, each in API order, with a measurement ID that
    # differs on every row (it names rows, not series).
    walls = ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
    body = [
        {"meritev_id": f"{i}{station}", "postaja_id": station, "cas": f"2024-10-27 {t}"}
        for i, t in enumerate(walls)
        for station in ("A", "B")
    ]

    df = to_frame(body)

    for _, rows in df.groupby("postaja_id"):
        assert rows["cas"].is_monotonic_increasing
        assert rows["cas"].is_unique
        assert rows["cas"].notna().all()


def test_repeated_hour_in_a_descending_series_of_stations() -> None:
    walls = ["03:00", "02:30", "02:00", "02:30", "02:00", "01:30"]
    body = [
        {"postaja": station, "postaja_id": station, "cas": f"2024-10-27 {t}"}
        for station in ("A", "B")
        for t in walls
    ]

    df = to_frame(body)

    for _, rows in df.groupby("postaja_id"):
        assert rows["cas"].is_monotonic_decreasing
        assert rows["cas"].is_unique


def test_repeated_hour_seen_three_times_is_not_guessed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    walls = ["01:30", "02:30", "02:30", "02:30", "03:00"]

    df = to_frame([{"cas": f"2024-10-27 {t}"} for t in walls])

    assert df["cas"].isna().tolist() == [False, True, True, True, False]
    assert len(_warnings(caplog)) == 1


def test_custom_zone() -> None:
    df = to_frame([{"cas": "2025-01-15 12:00"}], tz="UTC")

    assert df["cas"][0] == pd.Timestamp("2025-01-15T12:00Z")


# -- decoding ----------------------------------------------------------------


def test_decode_json_strips_the_bom() -> None:
    assert decode_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_decode_json_reads_integers_wider_than_64_bits() -> None:
    assert decode_json(b"[123456789012345678901234567890]") == [
        123456789012345678901234567890
    ]


def test_decode_json_honours_a_declared_charset() -> None:
    body = '{"ime": "Črnomelj"}'.encode("cp1250")

    payload = decode_json(body, content_type="application/json; charset=windows-1250")

    assert payload == {"ime": "Črnomelj"}


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", None, "empty"),
        (b"  \r\n", "application/json", "empty"),
        (b"<html><h1>502 Bad Gateway</h1></html>", "text/html", "HTML"),
        (b'[{"postaja": "Bled", "temp": 1', "application/json", "truncated"),
        (b'[{"postaja": "Bl', None, "truncated"),
        (b'{"ime": "\xc8rnomelj"}', "application/json", "UTF-8"),
        (b"{'a': 1}", None, "not valid JSON"),
    ],
)
def test_decode_json_says_what_is_wrong(
    body: bytes, content_type: str | None, reason: str
) -> None:
    with pytest.raises(ResponseError, match=reason) as caught:
        decode_json(body, content_type=content_type)

    error = caught.value
    assert error.body_start is not None
    assert len(error.body_start) <= 300
    assert error.__cause__ is not None or reason == "empty"


def test_decode_json_error_keeps_the_start_of_the_body() -> None:
    body = ("<html>" + "Vzdrževalna dela " * 40 + "</html>").encode()

    with pytest.raises(ResponseError) as caught:
        decode_json(body, content_type="text/html; charset=utf-8")

    start = caught.value.body_start
    assert start is not None
    assert len(start) == 300
    assert "Vzdrževalna dela" in start


AUTUMN_MORNING = ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
AUTUMN_OFFSETS = ["+0200", "+0200", "+0200", "+0100", "+0100", "+0100"]


def _naive(hhmm: str) -> str:
    return f"2024-10-27T{hhmm}:00"


def test_repeated_hour_in_series_interleaved_row_by_row() -> None:
    # Sorted by time, then parameter; "parameter" is no identifier-like name.
    rows = [
        {"parameter": p, "cas": _naive(t), "vrednost": "1,0"}
        for t in AUTUMN_MORNING
        for p in ("CO", "NOX")
    ]

    df = to_frame(rows)

    assert df["cas"].notna().all()
    for parameter in ("CO", "NOX"):
        times = df.loc[df["parameter"] == parameter, "cas"]
        assert [t.strftime("%z") for t in times] == AUTUMN_OFFSETS
        assert times.is_monotonic_increasing


def test_repeated_hour_in_series_one_after_another() -> None:
    rows = [
        {"merilno_mesto": m, "parameter": "CO", "cas": _naive(t)}
        for m in ("0012", "0034")
        for t in AUTUMN_MORNING
    ]

    df = to_frame(rows)

    assert [t.strftime("%z") for t in df["cas"]] == AUTUMN_OFFSETS * 2


def test_repeated_hour_newest_first_in_interleaved_series() -> None:
    rows = [
        {"p": p, "cas": _naive(t)} for t in AUTUMN_MORNING[::-1] for p in ("a", "b")
    ]

    df = to_frame(rows)

    offsets = [t.strftime("%z") for t in df.loc[df["p"] == "a", "cas"]]
    assert offsets == AUTUMN_OFFSETS[::-1]


def test_one_pass_of_the_repeated_hour_is_not_guessed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    rows = [{"cas": _naive(t)} for t in ["01:30", "02:00", "02:30", "04:00"]]

    df = to_frame(rows)

    assert df["cas"].isna().tolist() == [False, True, True, False]
    assert "cannot be placed" in caplog.text


@pytest.mark.parametrize("series", [("CO",), ("CO", "NOX")])
def test_repeated_hour_in_hourly_data(series: tuple[str, ...]) -> None:
    hours = ["01:00", "02:00", "02:00", "03:00"]
    rows = [{"parameter": p, "cas": _naive(h)} for h in hours for p in series]

    for ordered in (rows, rows[::-1]):
        df = to_frame(ordered)
        for parameter in series:
            times = df.loc[df["parameter"] == parameter, "cas"]
            offsets = [t.strftime("%z") for t in times.sort_values()]
            assert offsets == ["+0200", "+0200", "+0100", "+0100"]
            assert times.is_unique

"""stream: pulls written to CSV and Parquet page by page, whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from arso_data import ArsoClient, to_csv_report
from arso_data.errors import PagingError, ResponseError
from arso_data.sandbox import Sandbox
from arso_data.stream import stream_csv, stream_parquet

#: Three pages of half-hour data across the autumn DST change and two months.
PARAMS = {
    "merilno_mesto": "0012",
    "parameter": "NOX,SO2",
    "od": "2024-10-26",
    "do": "2024-11-02",
    "size": 300,
}


def _whole(client: ArsoClient) -> pd.DataFrame:
    frame = client.frame("meritve", PARAMS)
    frame.attrs = {}
    return frame


def _leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def test_csv_stream_has_the_bytes_of_the_whole_report(
    client: ArsoClient, tmp_path: Path
) -> None:
    to_csv_report(_whole(client), tmp_path / "whole.csv")

    written = stream_csv(client, "meritve", PARAMS, tmp_path / "stream.csv")

    assert written.read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert written.read_bytes().count(b"merilno_mesto") == 1
    assert _leftovers(tmp_path) == []


def test_parquet_file_reads_back_as_the_whole_frame(
    client: ArsoClient, tmp_path: Path
) -> None:
    out = stream_parquet(
        client, "meritve", PARAMS, tmp_path / "m.parquet", partition_by=None
    )

    pd.testing.assert_frame_equal(pd.read_parquet(out), _whole(client))


def test_parquet_by_month_is_a_hive_dataset(client: ArsoClient, tmp_path: Path) -> None:
    out = stream_parquet(client, "meritve", PARAMS, tmp_path / "meritve")

    months = sorted(p.name for p in out.iterdir())
    back = pd.read_parquet(out)

    assert months == ["month=2024-10", "month=2024-11"]
    assert all((out / m / "part-0.parquet").is_file() for m in months)
    whole = _whole(client)
    back = back.sort_values(["cas", "parameter"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back.drop(columns="month"), whole)
    assert set(back["month"].astype(str)) == {"2024-10", "2024-11"}


def test_parquet_by_column_keeps_it_in_the_folder_names(
    client: ArsoClient, tmp_path: Path
) -> None:
    out = stream_parquet(
        client, "meritve", PARAMS, tmp_path / "p", partition_by="parameter"
    )

    assert sorted(p.name for p in out.iterdir()) == ["parameter=NOX", "parameter=SO2"]
    assert len(pd.read_parquet(out)) == len(_whole(client))


def test_a_page_of_gaps_keeps_the_first_pages_types(
    sandbox: Sandbox, client: ArsoClient, tmp_path: Path
) -> None:
    def answer(request: Any) -> Any:
        page = int(request.args.get("page", 0))
        value = None if page == 1 else f"{page},5"
        rows = [{"cas": f"2024-10-0{page + 1}T00:00:00+02:00", "vrednost": value}]
        body = {"content": rows, "number": page, "size": 1, "totalElements": 3}
        return 200, {}, body | {"totalPages": 3}

    sandbox.route("GET", "/drift", answer)

    out = stream_parquet(
        client, "drift", None, tmp_path / "d.parquet", partition_by=None
    )

    back = pd.read_parquet(out)
    assert back["vrednost"].dtype == "float64"
    assert back["vrednost"].isna().tolist() == [False, True, False]


def test_a_new_column_on_a_later_page_is_an_error(
    sandbox: Sandbox, client: ArsoClient, tmp_path: Path
) -> None:
    def answer(request: Any) -> Any:
        page = int(request.args.get("page", 0))
        row = {"a": "1"} if page == 0 else {"a": "2", "b": "x"}
        body = {"content": [row], "number": page, "size": 1, "totalElements": 2}
        return 200, {}, body | {"totalPages": 2}

    sandbox.route("GET", "/more", answer)

    with pytest.raises(ResponseError, match="schema="):
        stream_csv(client, "more", None, tmp_path / "x.csv")
    assert os.listdir(tmp_path) == []


def test_a_pull_that_fails_midway_leaves_nothing_and_keeps_the_old_output(
    sandbox: Sandbox, make_client: Any, tmp_path: Path
) -> None:
    failing = [False]

    def answer(request: Any) -> Any:
        page = int(request.args.get("page", 0))
        if failing[0] and page == 2:
            return 500, {}, {"error": "boom"}
        rows = [{"cas": f"2024-10-0{page + 1}T00:00:00+02:00", "v": page}]
        body = {"content": rows, "number": page, "size": 1, "totalElements": 3}
        return 200, {}, body | {"totalPages": 3}

    sandbox.route("GET", "/flaky", answer)
    client = make_client(workers=1)
    target = tmp_path / "flaky"
    stream_parquet(client, "flaky", None, target)
    before = sorted(str(p) for p in target.rglob("*"))
    failing[0] = True

    with pytest.raises(PagingError):
        stream_parquet(client, "flaky", None, target, overwrite=True)
    with pytest.raises(PagingError):
        stream_csv(client, "flaky", None, tmp_path / "x.csv")

    assert sorted(str(p) for p in target.rglob("*")) == before
    assert sorted(os.listdir(tmp_path)) == ["flaky"]


def test_an_existing_target_needs_overwrite(client: ArsoClient, tmp_path: Path) -> None:
    target = tmp_path / "m.parquet"
    stream_parquet(client, "meritve", PARAMS, target, partition_by=None)

    with pytest.raises(FileExistsError):
        stream_parquet(client, "meritve", PARAMS, target, partition_by=None)
    stream_parquet(client, "meritve", PARAMS, target, partition_by=None, overwrite=True)

    assert _leftovers(tmp_path) == []

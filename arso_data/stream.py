"""Streaming exports: a paged pull written to a file page by page.

:func:`stream_csv` writes the CSV report of :mod:`arso_data.export` (one
header, then the rows of each page as it arrives); :func:`stream_parquet`
writes Parquet, one file or a Hive-style folder partitioned by month
(``month=2024-10/part-0.parquet``) or by a column. Neither holds more than a
few pages at a time, so a pull may be larger than memory.

Types are fixed by the first page: every later page is typed with the kinds
the first page's columns got (plus the caller's ``schema``), so a page whose
values alone would read differently (a page of gaps, say) cannot change a
column's type half-way through the file. A later page with a column the
first page did not have stops the export with :class:`ResponseError`; pass
``schema`` to declare such columns (and columns that may be empty on the
first page) up front.

The output appears whole or not at all: everything is written beside the
target under a temporary name and renamed at the end. On an error (a failed
page, an interrupted pull) the temporary files are removed and an existing
target is left as it was.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import pandas as pd

from .errors import ConfigError, ResponseError
from .export import (
    Dialect,
    _dialect,
    _encoded,
    _header,
    _write_whole,
    check_report_path,
)
from .frames import to_frame

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .client import ArsoClient, Params

logger = logging.getLogger(__name__)

#: Rows gathered before Parquet row groups are written: one row group per
#: partition that has rows (so memory stays bounded however the rows of a
#: pull spread over the partitions).
ROW_GROUP_ROWS: Final = 100_000
#: The name of the partition key for ``partition_by="month"``.
MONTH: Final = "month"


def stream_csv(
    client: ArsoClient,
    path: str,
    params: Params,
    out: str | os.PathLike[str],
    *,
    dialect: Dialect = "sl",
    schema: Mapping[str, str] | None = None,
    record_path: str | Sequence[str] | None = None,
    meta: Sequence[str] | None = None,
) -> Path:
    """Write every page of a pull to a CSV report, one page at a time.

    The bytes are those of :func:`arso_data.to_csv_report` (BOM, ``;``,
    decimal comma, ISO 8601 times with the offset, the formula guard), with
    one difference: whether a time column shows microseconds is decided per
    page rather than for the whole column.

    Examples
    --------
    >>> stream_csv(client, "meritve", {"merilno_mesto": "0012"}, "leto.csv")
    ... # doctest: +SKIP
    """
    spec = _dialect(dialect)
    target = check_report_path(out)
    frames = _page_frames(client, path, params, schema, record_path, meta)

    def chunks() -> Iterator[bytes]:
        first = True
        for frame in frames:
            if first:
                yield _header(frame, spec)
                first = False
            yield from _encoded(frame, spec, header=False)

    _write_whole(target, chunks())
    logger.info("Wrote the pull of %s to %s", path, target)
    return target


def stream_parquet(
    client: ArsoClient,
    path: str,
    params: Params,
    out: str | os.PathLike[str],
    *,
    partition_by: str | None = MONTH,
    time_column: str | None = None,
    schema: Mapping[str, str] | None = None,
    record_path: str | Sequence[str] | None = None,
    meta: Sequence[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write every page of a pull to Parquet, one page at a time.

    Parameters
    ----------
    partition_by
        ``"month"`` (default): a folder with one ``month=YYYY-MM`` subfolder
        per local calendar month of ``time_column``; a column name: one
        ``name=value`` subfolder per value (the column is then stored in the
        folder names only, as Hive partitioning does); ``None``: one file.
    time_column
        The times that ``"month"`` partitions by; by default the first
        time-zone-aware column.
    overwrite
        Replace an existing ``out`` (only once the new output is complete).

    The result opens with ``pandas.read_parquet(out)``, DuckDB's
    ``read_parquet('out/**/*.parquet', hive_partitioning = true)``, Dask's
    ``dd.read_parquet(out)`` and Spark's ``spark.read.parquet(out)``.
    Needs pyarrow (``pip install 'arso-data[fast]'``).

    Examples
    --------
    >>> stream_parquet(client, "meritve", {"merilno_mesto": "0012"}, "meritve/")
    ... # doctest: +SKIP
    """
    pa, pq = _pyarrow()
    target = Path(out)
    _require_folder(target.parent)
    if target.exists() and not overwrite:
        raise FileExistsError(
            errno.EEXIST, "The export target exists (pass overwrite=True)", str(target)
        )

    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    frames = _page_frames(client, path, params, schema, record_path, meta)
    try:
        sink = _ParquetSink(pa, pq, temp, partition_by, time_column)
        try:
            for frame in frames:
                sink.write(frame)
        finally:
            sink.close()
        _swap_in(temp, target)
    except BaseException:
        _remove(temp)
        raise
    logger.info("Wrote the pull of %s to %s (%d rows)", path, target, sink.rows)
    return target


# -- pages as frames of fixed types --------------------------------------------


def _page_frames(
    client: ArsoClient,
    path: str,
    params: Params,
    schema: Mapping[str, str] | None,
    record_path: str | Sequence[str] | None,
    meta: Sequence[str] | None,
) -> Iterator[pd.DataFrame]:
    # The first page's columns and kinds bind every later page.
    kinds = dict(schema or {})
    columns: list[str] | None = None
    for page in client.pages(path, params, record_path=record_path):
        child_path = None if page.used_record_path else record_path
        frame = to_frame(page.records, record_path=child_path, meta=meta, schema=kinds)
        if columns is None:
            columns = list(frame.columns)
            kinds = {**_kinds_of(frame), **kinds}
        else:
            frame = _conformed(frame, columns, page.index)
        yield frame


def _kinds_of(frame: pd.DataFrame) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            kinds[str(name)] = "datetime"
        elif pd.api.types.is_datetime64_dtype(dtype):
            kinds[str(name)] = "date"
        elif pd.api.types.is_bool_dtype(dtype):
            kinds[str(name)] = "bool"
        elif pd.api.types.is_integer_dtype(dtype):
            kinds[str(name)] = "int"
        elif pd.api.types.is_float_dtype(dtype):
            kinds[str(name)] = "float"
        else:
            # Text, or a column without values on the first page: text from
            # here on, so that a later page cannot turn it into numbers.
            kinds[str(name)] = "str"
    return kinds


def _conformed(frame: pd.DataFrame, columns: list[str], index: int) -> pd.DataFrame:
    new = [name for name in frame.columns if name not in columns]
    if new:
        raise ResponseError(
            f"Page {index} has column(s) {new} that the first page did not have; "
            "pass schema={...} naming them so that the export knows them from "
            "the start."
        )
    if list(frame.columns) == columns:
        return frame
    return frame.reindex(columns=columns)


# -- Parquet -------------------------------------------------------------------


class _ParquetSink:
    """Parquet files under one folder (or one file), written a page at a time."""

    def __init__(
        self,
        pa: Any,
        pq: Any,
        root: Path,
        partition_by: str | None,
        time_column: str | None,
    ) -> None:
        self._pa = pa
        self._pq = pq
        self._root = root
        self._partition_by = partition_by
        self._time_column = time_column
        self._schema: pa.Schema | None = None
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._buffers: dict[str, list[pa.Table]] = {}
        self._buffered: dict[str, int] = {}
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self._schema is None:
            self._start(frame)
        for key, part in self._parts(frame):
            table = self._table(part)
            self._buffers.setdefault(key, []).append(table)
            self._buffered[key] = self._buffered.get(key, 0) + table.num_rows
        if sum(self._buffered.values()) >= ROW_GROUP_ROWS:
            for key in list(self._buffers):
                self._flush(key)
        self.rows += len(frame)

    def close(self) -> None:
        try:
            for key in list(self._buffers):
                self._flush(key)
            if self._schema is not None and not self._writers:
                self._writer("")  # no rows: an empty file that keeps the schema
        finally:
            for writer in self._writers.values():
                writer.close()

    def _start(self, frame: pd.DataFrame) -> None:
        by = self._partition_by
        if by == MONTH:
            self._time_column = self._time_column or _first_time_column(frame)
            if self._time_column not in frame.columns:
                raise ConfigError(
                    f"Cannot partition by month: no time column "
                    f"{self._time_column!r} in {list(frame.columns)}; pass "
                    "time_column= or partition_by=None."
                )
        elif by is not None and by not in frame.columns:
            raise ConfigError(
                f"Cannot partition by {by!r}: the pull's columns are "
                f"{list(frame.columns)}."
            )
        stored = frame.drop(columns=[by]) if by not in (None, MONTH) else frame
        table = self._pa.Table.from_pandas(stored.iloc[:0], preserve_index=False)
        self._schema = table.schema  # with pandas' metadata: dtypes round-trip
        if self._partition_by is not None:
            self._root.mkdir()

    def _parts(self, frame: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
        by = self._partition_by
        if by is None:
            yield "", frame
            return
        if by == MONTH:
            assert self._time_column is not None
            months = frame[self._time_column].dt.strftime("%Y-%m")  # local time
            labels = months.fillna("__HIVE_DEFAULT_PARTITION__")
            data = frame
        else:
            labels = frame[by].astype("str").fillna("__HIVE_DEFAULT_PARTITION__")
            data = frame.drop(columns=[by])
        for label, rows in data.groupby(labels.to_numpy(), sort=False):
            yield f"{MONTH if by == MONTH else by}={quote(str(label), safe='')}", rows

    def _table(self, part: pd.DataFrame) -> pa.Table:
        try:
            table = self._pa.Table.from_pandas(
                part, schema=self._schema, preserve_index=False
            )
        except (self._pa.ArrowInvalid, self._pa.ArrowTypeError) as exc:
            raise ResponseError(
                f"A page does not fit the types of the first page ({exc}); "
                "pass schema={...} to declare the column kinds."
            ) from exc
        assert self._schema is not None
        return table.replace_schema_metadata(self._schema.metadata)

    def _flush(self, key: str) -> None:
        tables = self._buffers.pop(key, [])
        self._buffered.pop(key, None)
        if tables:
            self._writer(key).write_table(self._pa.concat_tables(tables))

    def _writer(self, key: str) -> pq.ParquetWriter:
        writer = self._writers.get(key)
        if writer is None:
            if self._partition_by is None:
                where = self._root
            else:
                folder = self._root / key if key else self._root
                folder.mkdir(parents=True, exist_ok=True)
                where = folder / "part-0.parquet"
            writer = self._pq.ParquetWriter(where, self._schema)
            self._writers[key] = writer
        return writer


def _first_time_column(frame: pd.DataFrame) -> str | None:
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            return str(name)
    return None


# -- files -----------------------------------------------------------------------


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ConfigError(
            "Parquet export needs pyarrow: pip install 'arso-data[fast]'"
        ) from None
    return pyarrow, pyarrow.parquet


def _require_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, "The folder for the export does not exist", str(folder)
        )


def _swap_in(temp: Path, target: Path) -> None:
    # A rename is atomic; an existing target is moved aside first (a folder
    # cannot be renamed over) and removed only once the new one is in place.
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old")
        os.replace(target, old)
    try:
        os.replace(temp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


__all__ = ["stream_csv", "stream_parquet"]

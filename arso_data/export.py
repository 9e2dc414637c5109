"""CSV reports that open right in Excel with Slovenian regional settings.

Two dialects (:data:`DIALECTS`):

- ``"sl"`` (default): UTF-8 with a BOM (so Excel sees UTF-8), ``;`` between
  fields, ``,`` as the decimal mark, ``\\r\\n`` line ends (RFC 4180).
- ``"plain"``: what pandas writes by default: ``,`` and ``.``, UTF-8 without a
  BOM, ``\\n`` line ends.

In both, every cell is written by this module, column by column:

- missing values are empty cells; there is no index column unless asked for;
- floats in their shortest exact form (``41.3`` -> ``41,3``, ``-2.0`` ->
  ``-2,0``, ``1e16`` -> ``1e+16``); integers as digits;
- booleans as ``True`` / ``False`` (pandas' spelling, which
  :func:`read_csv_report` reads back; a Slovenian Excel shows it as text);
- lists and objects (in ``object`` columns) as JSON text;
- tz-aware times as ISO 8601 with the offset (``2024-10-27T02:30:00+01:00``),
  with microseconds only when a value has them; naive times (this package's
  calendar dates) as ``2025-01-15``, or with the clock when one is not midnight;
- text that Excel would run as a formula (starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return) gets a leading ``'`` (OWASP "CSV injection");
  so does text that already starts with quotes before such a character, so
  that reading the report back removes exactly one. Numbers are never touched;
  column names are guarded as text.
- a field is quoted only when it holds the separator, ``"``, CR or LF (RFC
  4180; unlike the csv module behind ``DataFrame.to_csv``, a lone CR is quoted
  too, so the plain dialect matches pandas' output except there); a row of a
  single empty field is written ``""`` so that it is not a blank line.

With polars installed (``arso-data[fast]``) the rows are formatted and
written by polars' CSV writer, several times faster, to the same bytes; without
it (or for a frame of one column) by this module's own code.

The file is written whole or not at all: into a temporary file beside the
target, flushed to disk, then renamed over it. A missing folder is not created:
it raises :class:`FileNotFoundError` naming the folder (a typo in a path should
not grow a directory tree).
"""

from __future__ import annotations

import errno
import io
import json
import logging
import math
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from .constants import LOCAL_TZ
from .errors import ConfigError
from .frames import (
    ID_VALUE,
    ISO_DATE,
    ISO_INSTANT,
    ISO_LOCAL,
    KIND_DTYPES,
    TEXT_DTYPE,
    TIME_UNIT,
    _fast_paths,
    _forced_column,
    _is_id_name,
)

logger = logging.getLogger(__name__)

Dialect = Literal["sl", "plain"]
_Unit = Literal["D", "s", "us"]


@dataclass(frozen=True)
class CsvDialect:
    """How one dialect spells a report."""

    sep: str
    decimal: str
    bom: bool
    line_end: str


DIALECTS: Final = {
    "sl": CsvDialect(sep=";", decimal=",", bom=True, line_end="\r\n"),
    "plain": CsvDialect(sep=",", decimal=".", bom=False, line_end="\n"),
}

#: The mark put before text that a spreadsheet would run as a formula.
GUARD: Final = "'"
#: Text that needs the mark: a formula start, possibly behind earlier marks.
NEEDS_GUARD: Final = r"'*[=+\-@\t\r]"
#: Rows formatted and written at a time (memory stays flat for big frames).
CHUNK_ROWS: Final = 100_000
#: The same for the polars writer, whose every call has a fixed cost.
POLARS_CHUNK_ROWS: Final = 500_000

_UTF8_BOM: Final = b"\xef\xbb\xbf"


# -- writing -----------------------------------------------------------------


def to_csv_report(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    dialect: Dialect = "sl",
    index: bool = False,
) -> Path:
    """Write ``df`` as a CSV report and return its path.

    Parameters
    ----------
    df
        The frame, typically from :func:`arso_data.to_frame`.
    path
        The file to write; an existing file is replaced only once the new one
        is complete. Its folder must exist.
    dialect
        ``"sl"`` for Excel with Slovenian settings, ``"plain"`` for pandas'
        own CSV (see the module docstring).
    index
        Write the index as the first column(s).

    Raises
    ------
    FileNotFoundError
        The folder of ``path`` does not exist.

    Examples
    --------
    >>> to_csv_report(df, "meritve.csv")                   # doctest: +SKIP
    PosixPath('meritve.csv')
    """
    spec = _dialect(dialect)
    target = check_report_path(path)

    frame = df.reset_index() if index else df
    _write_whole(target, _encoded(frame, spec))
    return target


def check_report_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path if a report can be written there, else raise.

    Checked before anything is fetched or written: the folder must exist and
    the path must name a file, not a folder.
    """
    target = Path(path)
    if target.is_dir() or not target.name or target.name in (".", ".."):
        raise IsADirectoryError(
            errno.EISDIR, "The report path is a folder; name a file in it", str(path)
        )
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, "The folder for the report does not exist", str(folder)
        )
    return target


def _dialect(dialect: str) -> CsvDialect:
    try:
        return DIALECTS[dialect]
    except KeyError:
        raise ConfigError(
            f"Unknown CSV dialect {dialect!r}; use one of {sorted(DIALECTS)}."
        ) from None


def _encoded(
    frame: pd.DataFrame, spec: CsvDialect, *, header: bool = True
) -> Iterator[bytes]:
    if header:
        yield _header(frame, spec)
    pl = _polars() if _fast_paths() and frame.shape[1] > 1 else None
    step = CHUNK_ROWS if pl is None else POLARS_CHUNK_ROWS
    for start in range(0, len(frame), step):
        part = frame.iloc[start : start + step]
        if pl is not None:
            yield _polars_rows(pl, part, spec)
        else:
            cells = [_cells(part.iloc[:, i], spec) for i in range(part.shape[1])]
            yield _lines(cells, spec).encode("utf-8")


def _header(frame: pd.DataFrame, spec: CsvDialect) -> bytes:
    names = [_quoted_text(_guarded_text(str(name)), spec) for name in frame.columns]
    header = spec.sep.join(names) + spec.line_end
    return (_UTF8_BOM if spec.bom else b"") + header.encode("utf-8")


def _lines(columns: list[pd.Series], spec: CsvDialect) -> str:
    # Rows of formatted cells, quoted as RFC 4180 says. Done here rather than
    # by the csv module, which leaves a lone carriage return unquoted when the
    # line end is "\n", so that the row breaks when it is read back.
    if not columns:
        return ""
    quoted = [_quoted(column, spec) for column in columns]
    if len(quoted) == 1:
        # A row of one empty field would be a blank line, which readers skip.
        quoted[0] = quoted[0].mask(quoted[0].eq(""), '""')
    rows = reduce(lambda left, right: left + spec.sep + right, quoted)
    return "".join(row + spec.line_end for row in rows)


def _quoted(cells: pd.Series, spec: CsvDialect) -> pd.Series:
    text = cells.fillna("").astype(str)
    needs = text.str.contains(_needs_quotes(spec), regex=True)
    if not needs.any():
        return text
    return text.mask(needs, '"' + text.str.replace('"', '""', regex=False) + '"')


def _quoted_text(text: str, spec: CsvDialect) -> str:
    if re.search(_needs_quotes(spec), text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def _needs_quotes(spec: CsvDialect) -> str:
    return f'[{re.escape(spec.sep)}"\r\n]'


def _write_whole(target: Path, chunks: Iterable[bytes]) -> None:
    # The temporary file sits beside the target, so os.replace is a rename on
    # one file system: readers see the old file or the new one, never a part.
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        with os.fdopen(os.open(temp, flags, 0o666), "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# -- cells -------------------------------------------------------------------


def _cells(column: pd.Series, spec: CsvDialect) -> pd.Series:
    # One column as text (missing stays missing: an empty cell).
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _instant_cells(column)
    if pd.api.types.is_datetime64_dtype(dtype):
        return _naive_time_cells(column)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        return column.astype("str")
    if pd.api.types.is_float_dtype(dtype):
        return _float_cells(column, spec)
    if isinstance(dtype, pd.StringDtype):
        return _guarded(column.astype("str"))
    return column.astype(object).map(lambda value: _object_cell(value, spec))


def _float_cells(column: pd.Series, spec: CsvDialect) -> pd.Series:
    # pandas writes a float as Python's repr: the shortest text that reads
    # back as the same number. Only the decimal mark changes.
    text = column.astype("float64").astype("str")
    if spec.decimal != ".":
        text = text.str.replace(".", spec.decimal, regex=False)
    return text


def _instant_cells(column: pd.Series) -> pd.Series:
    # ISO 8601 with the offset each instant had on the local clock. Built from
    # numpy's ISO text of the wall time plus the offset, both vectorised
    # (strftime runs in Python per cell).
    unit: _Unit = "us" if _has_fraction(column) else "s"
    walls = column.dt.tz_localize(None)
    seconds = (walls - column.dt.tz_convert(None)).dt.total_seconds()
    offsets = seconds.map(_offset_text)
    text = np.datetime_as_string(walls.to_numpy().astype(f"datetime64[{unit}]"), unit)
    cells: pd.Series = (pd.Series(text, index=column.index) + offsets).where(
        column.notna()
    )
    return cells


def _offset_text(seconds: float) -> str:
    if math.isnan(seconds):
        return ""
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(round(abs(seconds)) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _naive_time_cells(column: pd.Series) -> pd.Series:
    # A naive column holds calendar dates; one with a clock keeps it.
    present = column.dropna()
    unit: _Unit
    if (present == present.dt.normalize()).all():
        unit = "D"
    else:
        unit = "us" if _has_fraction(column) else "s"
    text = np.datetime_as_string(column.to_numpy().astype(f"datetime64[{unit}]"), unit)
    cells: pd.Series = pd.Series(text, index=column.index).where(column.notna())
    return cells


def _has_fraction(column: pd.Series) -> bool:
    present = column.dropna()
    return bool(((present.dt.microsecond != 0) | (present.dt.nanosecond != 0)).any())


def _object_cell(value: Any, spec: CsvDialect) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool | np.bool_ | int | np.integer):
        return str(value)
    if isinstance(value, float | np.floating):
        return repr(float(value)).replace(".", spec.decimal)
    if isinstance(value, list | dict):
        return _guarded_text(json.dumps(value, ensure_ascii=False, default=str))
    return _guarded_text(str(value))


def _guarded(text: pd.Series) -> pd.Series:
    needs = text.str.match(NEEDS_GUARD, na=False)
    return text.mask(needs, GUARD + text)


def _guarded_text(text: str) -> str:
    return GUARD + text if re.match(NEEDS_GUARD, text) else text


# -- the polars writer -------------------------------------------------------


def _polars() -> Any:
    try:
        import polars
    except ImportError:
        logger.debug(
            "polars is not installed; CSV reports are written by the reference "
            "writer (pip install 'arso-data[fast]' for the fast one)"
        )
        return None
    return polars


def _polars_rows(pl: Any, part: pd.DataFrame, spec: CsvDialect) -> bytes:
    # Each column becomes polars text with the same cells as _cells (missing
    # and empty text both null, written as an empty field); polars' writer
    # then quotes exactly what _lines quotes: the separator, '"', CR and LF.
    # A frame of one column keeps the reference writer, which writes an empty
    # row as "" rather than as a blank line.
    cells = pl.DataFrame(
        {
            f"c{i}": _polars_cells(pl, part.iloc[:, i], spec)
            for i in range(part.shape[1])
        }
    )
    text = [f"c{i}" for i in range(part.shape[1]) if _may_be_empty(part.iloc[:, i])]
    if text:
        cells = cells.with_columns(
            pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name)).alias(name)
            for name in text
        )
    out = io.BytesIO()
    cells.write_csv(
        out,
        include_header=False,
        separator=spec.sep,
        line_terminator=spec.line_end,
        quote_char='"',
        quote_style="necessary",
        null_value="",
    )
    return out.getvalue()


def _may_be_empty(column: pd.Series) -> bool:
    # Numbers, flags and times are never empty text; text and objects may be.
    dtype = column.dtype
    return not (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_float_dtype(dtype)
    )


def _polars_cells(pl: Any, column: pd.Series, spec: CsvDialect) -> Any:
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        fraction = "%.6f" if _has_fraction(column) else ""
        return _polars_times(pl, column, f"%Y-%m-%dT%H:%M:%S{fraction}%:z")
    if pd.api.types.is_datetime64_dtype(dtype):
        return _polars_naive_times(pl, column)
    if pd.api.types.is_bool_dtype(dtype):
        flags = pl.from_pandas(column).cast(pl.String)
        return flags.replace({"true": "True", "false": "False"})
    if pd.api.types.is_integer_dtype(dtype):
        return pl.from_pandas(column).cast(pl.String)
    if pd.api.types.is_float_dtype(dtype):
        return _polars_floats(pl, column.astype("float64"), spec)
    if isinstance(dtype, pd.StringDtype):
        text = pl.from_pandas(column.astype("str"))
        needs = text.str.contains(f"^{NEEDS_GUARD}")
        return pl.select(
            pl.when(needs).then(pl.lit(GUARD) + text).otherwise(text)
        ).to_series()
    cells = _cells(column, spec).astype(object)
    return pl.Series("", cells.where(cells.notna(), None).tolist(), pl.String)


def _polars_naive_times(pl: Any, column: pd.Series) -> Any:
    present = column.dropna()
    if (present == present.dt.normalize()).all():
        fmt = "%Y-%m-%d"
    else:
        fmt = "%Y-%m-%dT%H:%M:%S" + ("%.6f" if _has_fraction(column) else "")
    return _polars_times(pl, column, fmt)


def _polars_times(pl: Any, column: pd.Series, fmt: str) -> Any:
    # A time column repeats each time once per series (parameter, point):
    # each distinct time is formatted once, then gathered by its code.
    codes, distinct = pd.factorize(column)
    times = pl.from_pandas(pd.Series(distinct).dt.as_unit("us"))
    text = times.dt.to_string(fmt).append(pl.Series([None], dtype=pl.String))
    return text.gather(np.where(codes < 0, len(distinct), codes))


def _polars_floats(pl: Any, column: pd.Series, spec: CsvDialect) -> Any:
    # polars writes a float as Python's repr does, except below 1e-4, where
    # it spells out the zeros ("0.00001" for 1e-05): those few are patched.
    text = pl.from_pandas(column).cast(pl.String)
    values = column.to_numpy()
    with np.errstate(invalid="ignore"):
        tiny = np.flatnonzero((np.abs(values) < 1e-4) & (values != 0))
    if len(tiny):
        patched = [repr(float(v)) for v in values[tiny]]
        text = text.scatter(tiny, patched)
    if spec.decimal != ".":
        text = text.str.replace(".", spec.decimal, literal=True)
    return text


# -- reading -----------------------------------------------------------------


def read_csv_report(
    path: str | os.PathLike[str],
    *,
    dialect: Dialect = "sl",
    tz: str = LOCAL_TZ,
    schema: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a report written by :func:`to_csv_report` back into a DataFrame.

    The dialect is reversed (BOM, separator, decimal mark, the formula guard).
    A CSV file carries no types, so each column's is read from its text, all
    values or none: ISO times with an offset become tz-aware in ``tz``;
    ``2025-01-15`` dates become naive midnight; ``True``/``False`` become
    ``boolean``; digits become ``int64`` (``Int64`` with gaps); numbers
    with the dialect's decimal mark become ``float64``; but a column named
    like an identifier, or with a value that has a leading zero or more than
    15 digits, stays text (as in :func:`arso_data.to_frame`); an all-empty column is
    ``float64`` NaN (as in pandas); the rest is text. Empty cells are missing,
    so an empty string comes back missing. ``schema`` (kinds as in
    :func:`arso_data.to_frame`) overrides the guess per column.
    """
    spec = _dialect(dialect)
    raw = pd.read_csv(
        path,
        sep=spec.sep,
        dtype=str,
        encoding="utf-8-sig",
        keep_default_na=False,
        na_filter=False,
    )
    kinds = dict(schema or {})

    columns: dict[str, pd.Series] = {}
    for i, header in enumerate(raw.columns):
        name = _unguarded_text(str(header))
        text = _unguarded(raw.iloc[:, i])
        values = text.where(text.ne(""))
        kind = kinds.get(name)
        if kind is not None:
            columns[name] = _forced_column(name, values.astype(object), kind, tz)
        else:
            columns[name] = _read_column(name, values, spec, tz)
    return pd.DataFrame(columns, index=raw.index)


def _read_column(name: str, values: pd.Series, spec: CsvDialect, tz: str) -> pd.Series:
    present = values.dropna()
    if present.empty:
        return values.astype("float64")
    if _all_match(present, ISO_INSTANT.pattern):
        times = pd.to_datetime(values, format="ISO8601", utc=True)
        return times.dt.tz_convert(tz).dt.as_unit(TIME_UNIT)
    if _all_match(present, ISO_DATE.pattern) or _all_match(present, ISO_LOCAL.pattern):
        return pd.to_datetime(values, format="ISO8601").astype(KIND_DTYPES["date"](tz))
    if present.isin(["True", "False"]).all():
        return values.map({"True": True, "False": False}).astype("boolean")
    if _is_id_name(name) or present.str.fullmatch(ID_VALUE).any():
        return values.astype(TEXT_DTYPE)
    if _all_match(present, r"[+-]?\d+"):
        return values.astype("Int64" if values.isna().any() else "int64")
    if _all_match(present, _float_pattern(spec.decimal)):
        numbers = values.str.replace(spec.decimal, ".", regex=False)
        return pd.to_numeric(numbers).astype("float64")
    return values.astype(TEXT_DTYPE)


def _float_pattern(decimal: str) -> str:
    mark = re.escape(decimal)
    return rf"[+-]?(?:\d+(?:{mark}\d*)?|{mark}\d+)(?:[eE][+-]?\d+)?|[+-]?inf"


def _all_match(text: pd.Series, pattern: str) -> bool:
    return bool(text.str.fullmatch(pattern).all())


def _unguarded(text: pd.Series) -> pd.Series:
    marked = text.str.startswith(GUARD)
    if not marked.any():
        return text
    bare = text[marked].str.replace(f"^{GUARD}(?={NEEDS_GUARD})", "", regex=True)
    return text.mask(marked, bare)


def _unguarded_text(text: str) -> str:
    return re.sub(f"^{GUARD}(?={NEEDS_GUARD})", "", text)


__all__ = ["DIALECTS", "CsvDialect", "read_csv_report", "to_csv_report"]

"""Sending a DataFrame of measurements to the API in batches, losing nothing.

:func:`send_frame` turns the rows into JSON records and POSTs them in batches
of ``batch_size``, in order. Each batch is sent once: a POST is never retried
blindly, since the API may have stored it before the answer was lost. When a
batch fails, the upload stops there and raises
:class:`~arso_data.errors.UploadError`, whose ``result`` tells which rows the
API accepted and which remain. Sending ``result.remaining`` again completes
the job without storing any row twice, for two reasons:

- each batch carries an ``Idempotency-Key`` derived from its path and
  content, so a batch that is sent again unchanged is recognised as a repeat
  (the API answers the first answer again instead of storing it twice);
- a batch that was half stored before it failed is not an exact repeat as far
  as the API's answer cache goes (a failed batch leaves no cached answer), so
  the API's own duplicate detection (measuring point, parameter, time in the
  sandbox) drops the rows it already has, and the answer counts them.

Values are sent as JSON: times with an offset (ISO 8601,
``2025-01-15T13:00:00+01:00``), calendar dates as ``2025-01-15``, numbers as
JSON numbers (never as text with a decimal comma), ``decimal.Decimal`` as its
exact decimal text with a dot, and every missing value (NaN, NaT, None,
``pd.NA``) as ``null``. Naive times with a clock time are refused: the offset
is never guessed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import ArsoError, UploadError

if TYPE_CHECKING:
    from .client import ArsoClient

logger = logging.getLogger(__name__)

#: Rows in one POST unless the caller says otherwise.
DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True, repr=False)
class UploadResult:
    """What an upload achieved.

    Attributes
    ----------
    accepted
        Index labels of the rows the API stored.
    duplicates
        Index labels of the rows the API already had (confirmed, not stored
        again). Told apart from ``accepted`` only when the API names the
        records it stored and ``key`` names the columns that identify a row;
        otherwise every confirmed row counts as accepted.
    remaining
        The rows the API has not confirmed, as a DataFrame (a slice of the
        input): send them again to complete the job.
    batches
        The batches the API confirmed.
    """

    accepted: pd.Index
    duplicates: pd.Index
    remaining: pd.DataFrame
    batches: int

    @property
    def complete(self) -> bool:
        """True when no row remains to be sent."""
        return self.remaining.empty

    def __repr__(self) -> str:
        return (
            f"UploadResult(accepted={len(self.accepted)}, "
            f"duplicates={len(self.duplicates)}, "
            f"remaining={len(self.remaining)}, batches={self.batches})"
        )


def send_frame(
    client: ArsoClient,
    df: pd.DataFrame,
    path: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    key: Sequence[str] | None = None,
) -> UploadResult:
    """POST the rows of ``df`` to ``path`` in batches, each batch once.

    Parameters
    ----------
    client
        The connection to use.
    df
        The rows to send, one JSON record each (the index is not sent; it must
        be unique, since results name rows by their index labels).
    path
        The API path (for example ``"meritve"``).
    batch_size
        Rows per POST.
    key
        Columns that identify a row for the API's duplicate detection (for
        example ``["merilno_mesto", "parameter", "cas"]``); used to tell
        ``accepted`` from ``duplicates`` in the API's answer.

    Raises
    ------
    UploadError
        A batch failed; ``exc.result`` says which rows were accepted and which
        remain, and the cause (a ServerError, a timeout...) is chained.
    ValueError
        ``df`` cannot be sent: a repeated index label, a naive clock time, an
        infinite number, an unknown ``key`` column, or ``batch_size`` < 1.

    Examples
    --------
    >>> try:                                                    # doctest: +SKIP
    ...     send_frame(client, df, "meritve")
    ... except UploadError as exc:
    ...     send_frame(client, exc.result.remaining, "meritve")
    """
    _check_input(df, batch_size, key)
    records = to_records(df)
    done = _Progress()

    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        labels = df.index[start : start + batch_size]
        idempotency_key = batch_key(path, batch)
        try:
            response = client.post(path, batch, idempotency_key=idempotency_key)
            answer = client.decode(response) if response.content else None
        except ArsoError as exc:
            result = done.result(df, start)
            raise _stopped(exc, path, start, len(batch), len(df), result) from exc
        accepted, duplicates = _confirmed(labels, batch, answer, key)
        if _replayed(response):
            # The API answered a repeat of an earlier, identical batch with
            # that batch's answer: its rows were there before this call.
            accepted, duplicates = [], accepted + duplicates
        done.add(accepted, duplicates)
        logger.info(
            "POST %s batch %d (rows %d-%d): %d accepted, %d already there",
            path,
            done.batches,
            start + 1,
            start + len(batch),
            len(accepted),
            len(duplicates),
        )

    return done.result(df, len(df))


class _Progress:
    def __init__(self) -> None:
        self.accepted: list[Hashable] = []
        self.duplicates: list[Hashable] = []
        self.batches = 0

    def add(self, accepted: list[Hashable], duplicates: list[Hashable]) -> None:
        self.accepted.extend(accepted)
        self.duplicates.extend(duplicates)
        self.batches += 1

    def result(self, df: pd.DataFrame, sent_up_to: int) -> UploadResult:
        return UploadResult(
            accepted=pd.Index(self.accepted, dtype=df.index.dtype),
            duplicates=pd.Index(self.duplicates, dtype=df.index.dtype),
            remaining=df.iloc[sent_up_to:],
            batches=self.batches,
        )


def _check_input(df: pd.DataFrame, batch_size: int, key: Sequence[str] | None) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if not df.index.is_unique:
        raise ValueError(
            "The frame's index has repeated labels; the result names rows by "
            "label, so make it unique first (df.reset_index(drop=True))."
        )
    missing = [name for name in key or () if name not in df.columns]
    if missing:
        raise ValueError(f"key names columns that are not in the frame: {missing}.")


def _stopped(
    exc: ArsoError, path: str, start: int, size: int, total: int, result: UploadResult
) -> UploadError:
    return UploadError(
        f"Upload to {path} stopped at rows {start + 1}-{start + size} of {total}: "
        f"{exc.message} {len(result.accepted)} row(s) were accepted and "
        f"{len(result.duplicates)} were already there; {len(result.remaining)} "
        "remain in exc.result.remaining. Send those again to complete the job: "
        "a repeated batch is recognised, no row is stored twice.",
        result=result,
        status=exc.status,
        method=exc.method,
        url=exc.url,
        body_start=exc.body_start,
    )


# -- JSON records ----------------------------------------------------------


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``df`` as JSON-ready records (see the module docstring).

    Raises
    ------
    ValueError
        A naive time with a clock time, or an infinite number.
    """
    names = [str(name) for name in df.columns]
    columns = [_column_values(str(name), df[name]) for name in df.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _column_values(name: str, column: pd.Series) -> list[Any]:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return [None if pd.isna(v) else v.isoformat() for v in column]
    if pd.api.types.is_datetime64_dtype(column.dtype):
        return _naive_times(name, column)
    return [_json_value(name, v) for v in column.tolist()]


def _naive_times(name: str, column: pd.Series) -> list[Any]:
    # A naive datetime column means calendar dates here (as in to_frame).
    present = column.dropna()
    if not (present == present.dt.normalize()).all():
        raise ValueError(
            f"Column {name!r} holds times without an offset; the API needs "
            "instants. Localise it first, e.g. "
            f"df[{name!r}].dt.tz_localize('Europe/Ljubljana')."
        )
    return [None if pd.isna(v) else v.date().isoformat() for v in column]


def _json_value(name: str, value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _float(name, value)
    if isinstance(value, decimal.Decimal):
        return None if value.is_nan() else format(value, "f")
    if isinstance(value, pd.Timestamp | dt.datetime):
        if value.tzinfo is None:
            return _naive_times(name, pd.Series([value]))[0]
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _float(name: str, value: float) -> float | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ValueError(f"Column {name!r} holds an infinite number; JSON has none.")
    return value


def batch_key(path: str, batch: list[dict[str, Any]]) -> str:
    """The ``Idempotency-Key`` of a batch: the same path and rows, the same key."""
    text = json.dumps(
        batch, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    digest = hashlib.sha256(f"{path.strip('/')}\n{text}".encode()).hexdigest()
    return f"arso-data-{digest[:40]}"


# -- the API's answer --------------------------------------------------------


def _replayed(response: Any) -> bool:
    value = str(response.headers.get("Idempotent-Replayed", ""))
    return value.strip().lower() == "true"


def _confirmed(
    labels: pd.Index,
    batch: list[dict[str, Any]],
    answer: Any,
    key: Sequence[str] | None,
) -> tuple[list[Hashable], list[Hashable]]:
    """Split a confirmed batch's labels into (accepted, duplicates)."""
    stored = answer.get("meritve") if isinstance(answer, dict) else None
    if not key or not isinstance(stored, list):
        return list(labels), []
    fresh = Counter(_identity(record, key) for record in stored)
    accepted: list[Hashable] = []
    duplicates: list[Hashable] = []
    for label, record in zip(labels, batch, strict=True):
        identity = _identity(record, key)
        if fresh[identity] > 0:
            fresh[identity] -= 1
            accepted.append(label)
        else:
            duplicates.append(label)
    return accepted, duplicates


def _identity(record: Any, key: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(record, dict):
        return ()
    return tuple(_comparable(record.get(name)) for name in key)


def _comparable(value: Any) -> str:
    # The API may spell a time another way (another offset, more digits).
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-":
        try:
            moment = pd.Timestamp(value)
        except (ValueError, OverflowError):
            return value
        if moment.tzinfo is not None:
            return moment.tz_convert("UTC").isoformat()
    return str(value)


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "UploadResult",
    "batch_key",
    "send_frame",
    "to_records",
]

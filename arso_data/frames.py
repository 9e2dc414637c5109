"""JSON answers of the ARSO API as typed pandas DataFrames.

Three pure functions, no HTTP:

- :func:`decode_json` turns a response body into Python objects (a UTF-8 BOM
  is dropped; a body that is not JSON raises :class:`ResponseError`).
- :func:`find_records` finds the list of records in a decoded answer.
- :func:`to_frame` flattens the records and gives every column an honest dtype.

Records: nested objects become dotted columns (``lokacija.lat``); lists stay
lists. ``record_path`` naming a list inside each record expands it into rows
(one per child, the parent's ``meta`` columns repeated); unlike
``pandas.json_normalize``, a parent whose list is empty or missing still gives
one row, with missing values in the child columns.

How columns are typed, in order (the tables below hold the name patterns):

- A ``schema`` entry wins: ``"str"``/``"id"``, ``"float"``, ``"int"``
  (nullable ``Int64``), ``"bool"`` (nullable ``boolean``), ``"datetime"``
  (tz-aware), ``"date"``, ``"json"`` (left as it is).
- JSON numbers stay numbers (integers ``int64``, or ``Int64`` with gaps;
  anything with a fraction ``float64``); JSON booleans become ``boolean``.
- Text is the pandas default string dtype (``str`` in pandas 3, ``object`` in
  pandas 2); a column that is still ``object`` holds lists, objects or a mix.
- Identifiers stay text: a column whose name looks like an identifier
  (:data:`ID_NAME`), or whose values have a leading zero or more than 15 digits
  (:data:`ID_VALUE`), is never turned into numbers or times.
- Text that reads as numbers becomes ``float64`` when more than half of its
  non-empty values parse (:data:`NUMERIC_SHARE`). The decimal mark may be a
  comma (``"41,3"``); a comma is never a thousands separator. A dot is a
  thousands separator only in front of a decimal comma (``"1.234,5"`` is
  1234.5; ``"1.234"`` is 1.234). Empty text and null are NaN; every other
  value that does not parse is NaN too, counted in one WARNING per column.
- Text in a time-like column (:data:`TIME_NAME`) of which more than half is
  ISO 8601, or in any column whose values are all ISO 8601 date-times, becomes
  ``datetime64[us, Europe/Ljubljana]``: values with an offset or ``Z`` are
  instants; values without one are local wall times. A time-like column of
  dates only (``"2025-01-15"``) stays a calendar date: naive ``datetime64[us]``
  at midnight (a naive datetime column always means "date" here, since every
  instant is tz-aware). Unreadable values are NaT, in one WARNING.
- Local times in the spring gap are NaT (one WARNING). A wall time in the
  repeated autumn hour is placed from the order of its series: see
  :func:`_resolve_repeated_hour`. One that cannot be placed is NaT (one
  WARNING naming it); the offset is never guessed.
- A column without a single value takes its dtype from its name: text for an
  identifier, tz-aware times for a time, else ``object``.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

import numpy as np
import pandas as pd

from .constants import LOCAL_TZ
from .errors import BODY_EXCERPT_CHARS, ConfigError, ResponseError

logger = logging.getLogger(__name__)

#: Keys of a wrapper object that usually hold the records (Spring ``content``,
#: HAL ``_embedded``, OData ``value``, ...), in order of preference.
WRAPPER_KEYS: Final = (
    "content",
    "items",
    "data",
    "results",
    "records",
    "rows",
    "meritve",
    "value",
    "features",
    "_embedded",
)

#: Column names (their last dotted part) that hold identifiers, case-insensitive.
ID_NAME: Final = re.compile(
    r"""
    id | .+_id | id_.+ | uuid | guid
    | (?:.+_)?(?:sifra|šifra|koda|code|oznaka)(?:_.+)?
    | wmo.* | (?:maticna|matična).* | emso|emšo | (?:davcna|davčna).*
    | posta | pošta | (?:postna|poštna).* | iban | ean
    """,
    re.IGNORECASE | re.VERBOSE,
)
#: camelCase identifiers (``stationId``); case-sensitive, so "valid" is no ID.
CAMEL_ID_NAME: Final = re.compile(r".*[a-z0-9](?:Id|ID|Ids|Code)")

#: Column names (their last dotted part) that hold times, case-insensitive.
TIME_NAME: Final = re.compile(
    r"""
    cas | čas | datum | date | time | timestamp | datetime | od | do
    | .+_(?:cas|čas|datum|date|time|at|timestamp)
    | (?:cas|čas|datum|date|time)_.+
    """,
    re.IGNORECASE | re.VERBOSE,
)
CAMEL_TIME_NAME: Final = re.compile(r".*[a-z0-9](?:At|Time|Date|Timestamp)")

_DATE = r"\d{4}-\d{2}-\d{2}"
_CLOCK = r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
#: ISO 8601 shapes that are read as times (matched against stripped text).
ISO_DATE: Final = re.compile(_DATE)
ISO_LOCAL: Final = re.compile(_DATE + _CLOCK)
ISO_INSTANT: Final = re.compile(_DATE + _CLOCK + r"(?:Z|[+-]\d{2}:?\d{2})")
#: A date-time with or without an offset (no date alone).
ISO_DATETIME: Final = re.compile(_DATE + _CLOCK + r"(?:Z|[+-]\d{2}:?\d{2})?")

#: Text that is an identifier, not a number: a leading zero, or too many
#: digits for a float64 to hold exactly.
ID_VALUE: Final = r"0\d+|\d{16,}"
#: A Slovenian number with thousands dots and a decimal comma: "1.234,5".
SL_THOUSANDS: Final = r"[+-]?\d{1,3}(?:\.\d{3})+,\d*"
#: A text column becomes numeric when more than this share of its non-empty
#: values parse. A tie keeps the text: converting loses the other values.
NUMERIC_SHARE: Final = 0.5
#: How many offending values a WARNING quotes.
WARN_EXAMPLES: Final = 5

#: Words a ``"bool"`` schema column accepts (after strip and lower-case).
BOOL_WORDS: Final = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "da": True,
    "ne": False,
    "yes": True,
    "no": False,
}

_PANDAS_3: Final = int(pd.__version__.split(".")[0]) >= 3
#: The dtype of text columns: pandas 3's string dtype, or object in pandas 2.
TEXT_DTYPE: Final[Any] = "str" if _PANDAS_3 else "object"
#: All times are kept at microsecond resolution (what pandas 3 parses text to).
TIME_UNIT: Final = "us"
#: The dtype of calendar dates: naive, at midnight.
DATE_DTYPE: Final = "datetime64[us]"


def _time_dtype(tz: str) -> pd.DatetimeTZDtype:
    return pd.DatetimeTZDtype(TIME_UNIT, tz)


#: The dtype of each schema kind for a column that has no values.
KIND_DTYPES: Final[dict[str, Callable[[str], Any]]] = {
    "str": lambda tz: TEXT_DTYPE,
    "id": lambda tz: TEXT_DTYPE,
    "float": lambda tz: "float64",
    "int": lambda tz: "Int64",
    "bool": lambda tz: "boolean",
    "datetime": _time_dtype,
    "date": lambda tz: DATE_DTYPE,
    "json": lambda tz: object,
}

#: Per-value work on a text column (matching, parsing) runs once per distinct
#: value when at most this share of the values are distinct (a year of
#: readings holds a few thousand distinct texts in a million rows).
DISTINCT_SHARE: Final = 0.5
#: Below this many rows the distinct values are not worth finding.
DISTINCT_MIN_ROWS: Final = 1000

_UTF8_BOM: Final = b"\xef\xbb\xbf"
#: Digits in a row beyond which orjson would lose an integer (2**64 has 20).
_LONG_DIGITS: Final = 20
_DIGITS_AS_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")


# -- fast paths --------------------------------------------------------------

_FAST: ContextVar[bool] = ContextVar("arso_data_fast_paths", default=True)


def _fast_paths() -> bool:
    return _FAST.get()


@contextmanager
def _reference_paths() -> Iterator[None]:
    """Turn the fast paths off in this context (tests compare both paths).

    The fast paths give the same frames and files as the plain code they
    replace: columns gathered without building a row frame, per-value work
    done once per distinct value, reports written by polars.
    """
    token = _FAST.set(False)
    try:
        yield
    finally:
        _FAST.reset(token)


def _by_value(text: pd.Series, compute: Callable[[pd.Series], pd.Series]) -> pd.Series:
    # ``compute`` works value by value (a match, a parse), so it can run on
    # the distinct values and be spread back to the rows by their codes.
    if (
        not _fast_paths()
        or len(text) < DISTINCT_MIN_ROWS
        or not isinstance(text.dtype, pd.StringDtype)
    ):
        return compute(text)
    codes, distinct = _distinct(text)
    if len(distinct) > DISTINCT_SHARE * len(text):
        return compute(text)
    done = compute(pd.Series(distinct, dtype=text.dtype, name=text.name))
    return pd.Series(done.array.take(codes), index=text.index, name=done.name)


#: The last text column factorised in this thread: one column's text goes
#: through several matchers and parsers in a row, each wanting its codes.
_LAST_DISTINCT = threading.local()


def _distinct(text: pd.Series) -> tuple[np.ndarray, Any]:
    last = getattr(_LAST_DISTINCT, "value", None)
    if last is not None and last[0]() is text:
        return last[1], last[2]
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    _LAST_DISTINCT.value = (weakref.ref(text), codes, distinct)
    return codes, distinct


def _forget_distinct() -> None:
    _LAST_DISTINCT.value = None


# -- decoding ----------------------------------------------------------------


def decode_json(body: bytes, *, content_type: str | None = None) -> Any:
    """Decode a response body as JSON.

    A leading UTF-8 byte order mark is dropped. The text must be UTF-8 unless
    ``content_type`` declares another charset. Uses orjson when installed.

    Raises
    ------
    ResponseError
        The body is empty, HTML, truncated, not UTF-8 or otherwise not JSON;
        the message says which and ``body_start`` holds its first 300 chars.

    Examples
    --------
    >>> decode_json(b'\\xef\\xbb\\xbf[{"postaja": "Bled"}]')
    [{'postaja': 'Bled'}]
    """
    data = body[len(_UTF8_BOM) :] if body.startswith(_UTF8_BOM) else body
    charset = _declared_charset(content_type)
    if not data.strip():
        raise ResponseError(
            f"Expected JSON{_described(content_type)}, but the body is empty.",
            body_start="",
        )

    try:
        if charset is None:
            return _loads(data)
        return _loads(data.decode(charset).lstrip("\ufeff"))
    except (ValueError, UnicodeDecodeError) as exc:
        reason = _why_not_json(data, charset or "utf-8", content_type)
        raise ResponseError(
            f"Expected JSON{_described(content_type)}, but {reason}.",
            body_start=_excerpt(data, charset or "utf-8"),
        ) from exc


def _loads(data: bytes | str) -> Any:
    # orjson reads an integer wider than 64 bits as a float, losing digits of
    # an identifier; a body with such a long digit run (a cheap scan) goes to
    # the standard library, which keeps it exact.
    try:
        import orjson
    except ImportError:
        return json.loads(_text(data))
    if _has_long_digit_run(data.encode() if isinstance(data, str) else data):
        return json.loads(_text(data))
    return orjson.loads(data)


def _has_long_digit_run(data: bytes) -> bool:
    # Two C-speed passes (a regex search is several times slower).
    return data.translate(_DIGITS_AS_ZERO).find(b"0" * _LONG_DIGITS) >= 0


def _text(data: bytes | str) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


def _declared_charset(content_type: str | None) -> str | None:
    # JSON is UTF-8 (RFC 8259); another charset is honoured only when declared
    # and known, so a stray "charset=latin-9x" cannot break decoding.
    match = re.search(r"charset=\"?([\w.:-]+)", content_type or "", re.IGNORECASE)
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1)).name
    except LookupError:
        return None
    return None if name == "utf-8" else name


def _why_not_json(data: bytes, charset: str, content_type: str | None) -> str:
    try:
        text = data.decode(charset)
    except UnicodeDecodeError as exc:
        return (
            f"the body is not valid {charset.upper()} "
            f"(byte 0x{data[exc.start]:02x} at position {exc.start})"
        )
    if text.lstrip().startswith("<") or "html" in (content_type or "").lower():
        return "the body looks like HTML (an error or login page?)"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated"):
            return f"the JSON is truncated (it stops after {len(data)} bytes)"
        where = f"line {exc.lineno} column {exc.colno}"
        return f"the body is not valid JSON ({exc.msg} at {where})"
    return "the body could not be decoded"


def _described(content_type: str | None) -> str:
    return f" ({content_type})" if content_type else ""


def _excerpt(data: bytes, charset: str) -> str:
    text = data[: BODY_EXCERPT_CHARS * 4].decode(charset, errors="replace")
    return text[:BODY_EXCERPT_CHARS]


# -- finding the records -----------------------------------------------------

_Path = tuple[str, ...]


class _Source:
    """Where the records are: a list of records, or parents with child lists."""

    def __init__(
        self,
        records: list[Any],
        *,
        child_path: _Path | None = None,
        wrapper: Mapping[str, Any] | None = None,
        key: _Path = (),
    ) -> None:
        self.records = records
        self.child_path = child_path
        self.wrapper = wrapper
        self.key = key


def find_records(
    payload: Any, record_path: str | Sequence[str] | None = None
) -> list[Any]:
    """Return the list of records in a decoded API answer.

    Without ``record_path``: a top-level list is the records; in an object,
    the one list under a wrapper key (:data:`WRAPPER_KEYS`), else its one list
    of objects; an object with no such list is one record; ``None`` is none.
    ``record_path`` (``"data.items"`` or ``["data", "items"]``) names the list
    in the answer; when the answer is a list of parents, it names a list inside
    each parent, and the children of all parents are returned in order (use
    :func:`to_frame` to keep the parents' fields).

    Raises
    ------
    ResponseError
        Several lists could be the records, ``record_path`` is not in the
        answer, or the answer is a bare value.

    Examples
    --------
    >>> find_records({"content": [{"id": 1}], "totalElements": 1})
    [{'id': 1}]
    """
    source = _locate(payload, _split_path(record_path))
    if source.child_path is None:
        return source.records
    return [
        child
        for parent in source.records
        for child in _children(parent, source.child_path)
    ]


def _locate(payload: Any, path: _Path | None) -> _Source:
    if path is None:
        records, key = _auto_records(payload)
        return _Source(records, wrapper=_as_wrapper(payload), key=key)
    if payload is None or isinstance(payload, list):
        return _Source(payload or [], child_path=path, key=path)
    if not isinstance(payload, Mapping):
        raise _not_records(payload)

    found, value = _walk(payload, path)
    if found:
        return _Source(_record_list(value, path), wrapper=payload, key=path)
    parents, _ = _auto_records(payload)
    if any(_walk(parent, path)[0] for parent in parents):
        return _Source(parents, child_path=path, key=path)
    raise ResponseError(
        f"The answer has no {'.'.join(path)!r}; its keys are "
        f"{', '.join(map(repr, payload))}. Check record_path."
    )


def _auto_records(payload: Any) -> tuple[list[Any], _Path]:
    if payload is None:
        return [], ()
    if isinstance(payload, list):
        return payload, ()
    if not isinstance(payload, Mapping):
        raise _not_records(payload)

    lists = {key: value for key, value in payload.items() if isinstance(value, list)}
    wrapped = [key for key in WRAPPER_KEYS if key in lists]
    objects = [key for key, value in lists.items() if value and _is_object(value[0])]
    for candidates in (wrapped, objects):
        if len(candidates) == 1:
            return lists[candidates[0]], (candidates[0],)
        if candidates:
            raise _ambiguous(candidates)

    for key in WRAPPER_KEYS:
        inner = payload.get(key)
        if isinstance(inner, Mapping):
            records, path = _auto_records(inner)
            if path:
                return records, (key, *path)
    return [payload], ()


def _ambiguous(keys: Sequence[str]) -> ResponseError:
    names = ", ".join(map(repr, keys))
    return ResponseError(
        f"The answer holds more than one list that could be the records: {names}. "
        f"Pass record_path to choose one, for example record_path={keys[0]!r}."
    )


def _not_records(payload: Any) -> ResponseError:
    return ResponseError(
        f"The answer is a single {type(payload).__name__}, not records: "
        f"{str(payload)[:80]!r}."
    )


def _split_path(record_path: str | Sequence[str] | None) -> _Path | None:
    if record_path is None:
        return None
    path = (
        tuple(record_path.split("."))
        if isinstance(record_path, str)
        else tuple(record_path)
    )
    if not path or not all(path):
        raise ConfigError(f"record_path {record_path!r} is empty or has an empty part.")
    return path


def _walk(node: Any, path: _Path) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _record_list(value: Any, path: _Path) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    raise ResponseError(
        f"record_path {'.'.join(path)!r} holds a {type(value).__name__}, not records."
    )


def _children(parent: Any, path: _Path) -> list[Any]:
    found, value = _walk(parent, path)
    return _record_list(value, path) if found else []


def _is_object(value: Any) -> bool:
    return isinstance(value, Mapping)


def _as_wrapper(payload: Any) -> Mapping[str, Any] | None:
    return payload if isinstance(payload, Mapping) else None


# -- flattening --------------------------------------------------------------


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    # Nested objects become dotted columns; lists are values, kept whole.
    # A record without nested objects is returned as it is: the common case,
    # checked at C speed (JSON decoders give dicts, so no Mapping checks).
    if not prefix and dict not in map(type, record.values()):
        return record
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if type(value) is dict and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = None if type(value) is dict else value
    return flat


def _flat_record(record: Any, name: str) -> dict[str, Any]:
    return _flatten(record) if type(record) is dict else {name: record}


def _joined(
    fixed: Mapping[str, Any], child: Mapping[str, Any], prefix: str
) -> dict[str, Any]:
    # A child column that has the name of a parent column gets the record
    # path as prefix; neither value is lost.
    row = dict(fixed)
    for key, value in child.items():
        row[f"{prefix}{key}" if key in fixed else key] = value
    return row


def _rows(source: _Source, meta: Sequence[str] | None) -> tuple[list[Any], list[str]]:
    prefix = ".".join(source.key) + "." if source.key else "record."
    if source.child_path is None:
        return _wrapped_rows(source, meta, prefix)

    child_key = ".".join(source.child_path)
    rows: list[dict[str, Any]] = []
    for parent in source.records:
        flat = _flat_record(parent, "value")
        if meta is None:
            fixed = {k: v for k, v in flat.items() if not _under(k, child_key)}
        else:
            fixed = {name: flat.get(name) for name in meta}
        children = _children(parent, source.child_path)
        rows.extend(
            _joined(fixed, _flat_record(child, source.child_path[-1]), prefix)
            for child in children
        )
        if not children:
            rows.append(fixed)
    return rows, list(meta or [])


def _wrapped_rows(
    source: _Source, meta: Sequence[str] | None, prefix: str
) -> tuple[list[Any], list[str]]:
    if not meta or source.wrapper is None:
        return [_flat_record(record, "value") for record in source.records], []
    around = {
        k: v
        for k, v in _flat_record(source.wrapper, "value").items()
        if not _under(k, prefix[:-1])
    }
    fixed = {name: around.get(name) for name in meta}
    rows = [_joined(fixed, _flat_record(r, "value"), prefix) for r in source.records]
    return rows, list(meta)


def _under(name: str, key: str) -> bool:
    return name == key or name.startswith(key + ".")


# -- the frame ---------------------------------------------------------------


def to_frame(
    payload: Any,
    *,
    record_path: str | Sequence[str] | None = None,
    meta: Sequence[str] | None = None,
    schema: Mapping[str, str] | None = None,
    tz: str = LOCAL_TZ,
    attrs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Turn a decoded API answer into a DataFrame with honest dtypes.

    Parameters
    ----------
    payload
        The decoded JSON: a list of records, a wrapper object, one record;
        or the body itself as bytes (UTF-8 JSON, read as by
        :func:`decode_json`). A body that is an array of flat records is
        read column by column without building a Python object per value,
        when pyarrow and orjson are installed (see :func:`_columnar_raw`).
    record_path
        Where the records are (see :func:`find_records`). When the answer is a
        list of parents, a list inside each parent: every child becomes a row
        with the parent's ``meta`` columns, and a parent whose list is empty
        or missing still gives one row (with missing values in the child
        columns). Child columns keep their names; one that collides with a
        parent column is prefixed with the record path.
    meta
        Parent (or wrapper) fields to repeat on every row, dotted for nested
        ones. With a list of parents, ``None`` means all parent fields.
    schema
        Column -> kind (``"str"``, ``"id"``, ``"float"``, ``"int"``,
        ``"bool"``, ``"datetime"``, ``"date"``, ``"json"``). Forces the dtype,
        and every schema column is present, even in an empty result (after the
        ``meta`` columns, in schema order).
    tz
        The zone of local times and of the result's time columns.
    attrs
        Provenance merged into ``DataFrame.attrs`` (never secrets).

    Examples
    --------
    >>> body = [{"id_postaje": "0123", "cas": "2025-01-15 13:00", "temp": "1,2"}]
    >>> to_frame(body).dtypes.astype(str).tolist()
    ['str', 'datetime64[us, Europe/Ljubljana]', 'float64']
    """
    kinds = dict(schema or {})
    unknown = sorted(set(kinds.values()) - set(KIND_DTYPES))
    if unknown:
        raise ConfigError(
            f"Unknown schema kind(s) {unknown}; use one of {sorted(KIND_DTYPES)}."
        )

    if isinstance(payload, bytes | bytearray | memoryview):
        raw = _columnar_raw(bytes(payload), record_path, meta, kinds)
        if raw is not None:
            return _finished(_typed_frame(raw, kinds, tz), attrs)
        payload = decode_json(bytes(payload))

    source = _locate(payload, _split_path(record_path))
    raw = _flat_frame(source, meta) if _fast_paths() else None
    if raw is None:
        rows, leading = _rows(source, meta)
        raw = _raw_frame(rows, leading)
    return _finished(_typed_frame(raw, kinds, tz), attrs)


def _finished(frame: pd.DataFrame, attrs: Mapping[str, Any] | None) -> pd.DataFrame:
    frame.attrs.update(attrs or {})
    return frame


def _raw_frame(rows: list[Any], leading: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in leading})
    raw = pd.DataFrame(rows, dtype=object)
    # A BOM inside the text (not only before it) must not reach a column name.
    raw.columns = [str(name).lstrip("\ufeff") for name in raw.columns]
    return raw


def _flat_frame(source: _Source, meta: Sequence[str] | None) -> pd.DataFrame | None:
    """The raw frame built column by column, or None when that does not apply.

    The common answer is a list of flat objects with the same keys. Its
    columns are gathered one at a time, which costs a fraction of
    ``pandas.DataFrame(rows)`` and creates no per-row objects; the result is
    the frame :func:`_raw_frame` would build. Anything else (nested objects,
    differing keys, parents with child lists, ``meta``) returns None and takes
    the general path.
    """
    records = source.records
    if source.child_path is not None or meta or not records:
        return None
    if type(records[0]) is not dict:
        return None
    names = list(records[0])
    width = len(names)
    if not names or set(map(type, records)) != {dict}:
        return None
    if not all(map(width.__eq__, map(len, records))):
        return None

    columns: dict[str, np.ndarray] = {}
    try:
        for name in names:
            column = [record[name] for record in records]
            if dict in set(map(type, column)):
                return None  # nested: flattened into dotted columns elsewhere
            columns[name] = np.fromiter(column, dtype=object, count=len(column))
    except KeyError:
        return None  # same number of keys, other names
    raw = pd.DataFrame(columns, dtype=object, copy=False)
    raw.columns = [str(name).lstrip("\ufeff") for name in names]
    return raw


# -- the columnar path -------------------------------------------------------

#: How many records the columnar path decodes first to learn the column types.
COLUMNAR_SAMPLE: Final = 1000
#: At most this many bytes of the body are searched for the sample.
_SAMPLE_BYTES: Final = 1 << 20
#: JSON whitespace (bytes.strip() would also drop \x0b and \x0c, which JSON
#: does not allow).
_JSON_SPACE: Final = b" \t\n\r"


def _columnar_raw(
    body: bytes,
    record_path: str | Sequence[str] | None,
    meta: Sequence[str] | None,
    kinds: Mapping[str, str],
) -> pd.DataFrame | None:
    """The raw frame of a JSON body read by pyarrow, or None to decode as usual.

    Applies to the common body, a compact JSON array of flat objects, when
    pyarrow and orjson are installed: the array becomes newline-delimited
    JSON, which pyarrow reads in C++ into columns, with the types that the
    first :data:`COLUMNAR_SAMPLE` records (decoded by orjson) show. pyarrow
    refuses what would read differently: a value of another type than its
    column's, a repeated key, a bad escape or encoding. Every raw column
    is then what :func:`_typed_frame` types exactly as the decoded records'
    column (text as the ``str`` dtype, numbers, flags, nulls). Anything else
    returns None: nested values, lists, a key that first appears after the
    sample, text that pyarrow would read as times, ``record_path``, ``meta``.
    """
    if record_path is not None or meta or not _fast_paths():
        return None
    modules = _columnar_modules()
    if modules is None:
        return None
    lines = _record_lines(body)
    if lines is None:
        return None
    table = _read_lines(modules, *lines)
    return None if table is None else _raw_columns(modules[0], table, kinds)


def _columnar_modules() -> tuple[Any, Any, Any] | None:
    try:
        import orjson
        import pyarrow
        import pyarrow.json
    except ImportError:
        return None
    return pyarrow, pyarrow.json, orjson


def _record_lines(body: bytes) -> tuple[bytes, int] | None:
    # "[{...},{...}]" becomes "{...}\n{...}" by a newline between "}" and
    # "{" (the brackets stay, outside the lines pyarrow reads). That is exact
    # when the body has one "{" per record (nothing nested, no "{" in a
    # text), which _read_lines checks against the rows read. A "},{" inside
    # a text would cut it open, leaving a line that pyarrow refuses (an
    # unterminated string). A raw newline is refused here: inside a text it
    # is not JSON, outside it would start a line.
    data = body[len(_UTF8_BOM) :] if body.startswith(_UTF8_BOM) else body
    data = data.strip(_JSON_SPACE)
    if not (data.startswith(b"[{") and data.endswith(b"}]")):
        return None
    if b"\n" in data or b"\r" in data:
        return None
    braces = int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord("{")))
    return data.replace(b"},{", b"}\n{"), braces


def _read_lines(modules: tuple[Any, Any, Any], lines: bytes, braces: int) -> Any | None:
    pa, pa_json, _ = modules
    sample = _sample(lines)
    fields = None if sample is None else _sample_types(pa, sample)
    if fields is None:
        return None
    known = [(name, kind) for name, kind in fields.items() if kind is not None]
    options = pa_json.ParseOptions(explicit_schema=pa.schema(known))
    inner = pa.py_buffer(lines).slice(1, len(lines) - 2)  # no copy
    try:
        table = pa_json.read_json(pa.BufferReader(inner), parse_options=options)
        if not lines.isascii():
            table.validate(full=True)  # pyarrow does not check UTF-8 itself
    except (pa.ArrowException, ValueError):
        return None
    names = list(fields)
    if table.num_rows != braces or sorted(table.column_names) != sorted(names):
        return None  # nested, or a key first seen after the sample (where?)
    inferred = {table.schema.field(n).type for n, kind in fields.items() if not kind}
    if not inferred <= {pa.null(), pa.string(), pa.bool_(), pa.int64()}:
        return None  # a float may be a long integer, a timestamp was text
    return table.select(names)


def _sample(lines: bytes) -> list[Any] | None:
    # The first COLUMNAR_SAMPLE lines, decoded; only lines read whole from
    # the first _SAMPLE_BYTES ("lines" still has the array's brackets).
    whole = len(lines) <= _SAMPLE_BYTES + 2
    head = lines[1:-1] if whole else lines[1 : _SAMPLE_BYTES + 1]
    parts = head.split(b"\n", COLUMNAR_SAMPLE)
    if not whole and len(parts) <= COLUMNAR_SAMPLE:
        parts.pop()  # may be cut short
    try:
        # As decode_json reads it: a long integer stays exact, not a float.
        sample = _loads(b"[" + b",".join(parts[:COLUMNAR_SAMPLE]) + b"]")
    except ValueError:
        return None
    return sample if isinstance(sample, list) else None


def _sample_types(pa: Any, sample: list[Any]) -> dict[str, Any] | None:
    # Column -> pyarrow type, in the order of first appearance (the order of
    # the reference frame's columns); None: only nulls so far, inferred by
    # pyarrow. Mixed, nested or too wide values: None for the whole body.
    seen: dict[str, set[type]] = {}
    for record in sample:
        if type(record) is not dict or not record:
            return None
        for key, value in record.items():
            seen.setdefault(key, set()).add(type(value))
            if type(value) is int and not -(2**63) <= value < 2**63:
                return None
    types: dict[str, Any] = {}
    for key, kinds in seen.items():
        kinds.discard(type(None))
        if not kinds:
            types[key] = None
        elif kinds <= {int, float}:
            types[key] = pa.int64() if kinds == {int} else pa.float64()
        elif kinds in ({str}, {bool}):
            types[key] = pa.string() if kinds == {str} else pa.bool_()
        else:
            return None
    return types


def _raw_columns(pa: Any, table: Any, kinds: Mapping[str, str]) -> pd.DataFrame | None:
    names = [str(name).lstrip("\ufeff") for name in table.column_names]
    if len(set(names)) != len(names):
        return None
    columns: dict[str, Any] = {}
    for name, column in zip(names, table.columns, strict=True):
        if name in kinds:
            # A forced kind reads Python values, as the reference path does.
            values = column.to_pylist()
            columns[name] = np.fromiter(values, dtype=object, count=len(values))
            continue
        converted = _raw_column(pa, column)
        if converted is None:
            return None
        columns[name] = converted
    raw = pd.DataFrame(columns, copy=False)
    raw.columns = names
    return raw


def _raw_column(pa: Any, column: Any) -> Any | None:
    # The column as the typing code sees the decoded values' column: text
    # (the str dtype), integers (Int64 with gaps), floats, flags (boolean
    # with gaps), or nulls (object).
    kind, gaps = column.type, column.null_count > 0
    if kind in (pa.string(), pa.large_string()):
        return column.to_pandas()
    if kind == pa.int64():
        if not gaps:
            return column.to_numpy()
        # Built from the values and the mask: pd.array() would pass through
        # float64 and round integers beyond 2**53.
        mask = column.is_null().to_numpy()
        return pd.arrays.IntegerArray(column.fill_null(0).to_numpy(), mask)
    if kind == pa.bool_():
        if not gaps:
            return column.to_numpy()
        mask = column.is_null().to_numpy()
        return pd.arrays.BooleanArray(column.fill_null(False).to_numpy(), mask)
    if kind == pa.float64():
        values = column.to_numpy()
        return values if np.isfinite(values[~np.isnan(values)]).all() else None
    if kind == pa.null():
        return np.full(len(column), None, dtype=object)
    return None


def _typed_frame(raw: pd.DataFrame, kinds: Mapping[str, str], tz: str) -> pd.DataFrame:
    columns = {
        name: _typed_column(str(name), raw[name], kinds.get(name), tz)
        for name in raw.columns
    }
    _forget_distinct()
    for name, kind in kinds.items():
        if name not in columns:
            columns[name] = pd.Series(index=raw.index, dtype=KIND_DTYPES[kind](tz))
    return pd.DataFrame(columns, index=raw.index)


def _typed_column(name: str, values: pd.Series, kind: str | None, tz: str) -> pd.Series:
    if kind is not None:
        return _forced_column(name, values, kind, tz)
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred == "empty":
        return pd.Series(index=values.index, dtype=_dtype_by_name(name, tz))
    if inferred == "boolean":
        return values.astype("boolean")
    if inferred == "integer":
        return _json_integers(values)
    if inferred in ("floating", "mixed-integer-float"):
        return values.astype("float64")
    if inferred == "string":
        return _text_column(name, values, tz)
    if inferred in ("mixed", "mixed-integer") and _numbers_and_text(values):
        return _numbers_or_text(name, values)
    return values


def _forced_column(name: str, values: pd.Series, kind: str, tz: str) -> pd.Series:
    if kind in ("str", "id"):
        return _as_text(values)
    if kind == "float":
        return _numbers(name, values)
    if kind == "int":
        return _integers(name, values)
    if kind == "bool":
        return _booleans(name, values)
    if kind == "datetime":
        text = _as_text(values).str.strip()
        return _times(name, text, tz, _IsoShapes(text), dates=False)
    if kind == "date":
        return _dates(name, _as_text(values))
    return values


def _dtype_by_name(name: str, tz: str) -> Any:
    # A column without a single value takes its dtype from its name.
    if _is_id_name(name):
        return TEXT_DTYPE
    if _is_time_name(name):
        return _time_dtype(tz)
    return object


def _is_id_name(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return bool(ID_NAME.fullmatch(last) or CAMEL_ID_NAME.fullmatch(last))


def _is_time_name(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return bool(TIME_NAME.fullmatch(last) or CAMEL_TIME_NAME.fullmatch(last))


def _as_text(values: pd.Series) -> pd.Series:
    if _PANDAS_3:
        return values.astype("str")
    return values.where(values.isna(), values.astype(str)).astype(
        object
    )  # pragma: no cover


def _json_integers(values: pd.Series) -> pd.Series:
    try:
        return values.astype("Int64" if values.isna().any() else "int64")
    except (OverflowError, TypeError, ValueError):
        return values  # wider than 64 bits: left as Python ints


def _numbers_and_text(values: pd.Series) -> bool:
    kinds = {type(v) for v in values.dropna()}
    return kinds <= {str, int, float} and str in kinds


def _text_column(name: str, values: pd.Series, tz: str) -> pd.Series:
    if _is_id_name(name):
        return _as_text(values)
    as_text = _as_text(values)
    text = as_text.str.strip()
    present = text[text.ne("") & text.notna()]
    if _is_time_name(name) or (
        len(present) and ISO_DATETIME.fullmatch(present.iloc[0]) is not None
    ):
        shapes = _IsoShapes(text)
        if shapes.are_times(strict=not _is_time_name(name)):
            return _times(name, text, tz, shapes, dates=True)
    return _numbers_or_text(name, values, text, as_text)


def _numbers_or_text(
    name: str,
    values: pd.Series,
    text: pd.Series | None = None,
    as_text: pd.Series | None = None,
) -> pd.Series:
    # ``text`` is the stripped text of an all-text column (``as_text`` before
    # stripping); else it is made from the text values of a column that mixes
    # text and JSON numbers.
    if as_text is None:
        as_text = _as_text(values)
    if text is None:
        is_text = values.map(_is_str).astype(bool)
        text = _as_text(values.where(is_text)).str.strip()
    else:
        is_text = values.notna()
    if _is_id_name(name) or _by_value(text, _is_id_value).any():
        return as_text
    numbers, failed = _parse_numbers(values, text, is_text)
    present = int(numbers.notna().sum())
    if present == 0 or present <= NUMERIC_SHARE * (present + int(failed.sum())):
        return as_text
    _warn_unread(name, "numbers", values[failed])
    return numbers


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_id_value(text: pd.Series) -> pd.Series:
    return text.str.fullmatch(ID_VALUE, na=False)


# -- numbers and other scalars -----------------------------------------------


def _parse_numbers(
    values: pd.Series, text: pd.Series, is_text: pd.Series
) -> tuple[pd.Series, pd.Series]:
    # Text: "41,3" and "-0,5" have a decimal comma; "1.234,5" has thousands
    # dots as well; a lone comma is never a thousands separator. JSON numbers
    # pass through. Returns the floats and the mask of unreadable text.
    parsed = _by_value(text, _read_numbers)
    if not is_text.all():
        others = pd.to_numeric(values.where(~is_text), errors="coerce")
        parsed = parsed.where(is_text, others)
    failed = is_text & text.ne("") & parsed.isna()
    return parsed.astype("float64"), failed


def _read_numbers(text: pd.Series) -> pd.Series:
    thousands = text.str.fullmatch(SL_THOUSANDS, na=False)
    text = text.mask(thousands, text.str.replace(".", "", regex=False))
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")


def _numbers(name: str, values: pd.Series) -> pd.Series:
    is_text = values.map(_is_str).astype(bool)
    text = _as_text(values.where(is_text)).str.strip()
    numbers, failed = _parse_numbers(values, text, is_text)
    _warn_unread(name, "numbers", values[failed])
    return numbers


def _integers(name: str, values: pd.Series) -> pd.Series:
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "empty"):
        return values.astype("Int64")
    numbers = _numbers(name, values)
    whole = numbers.isna() | (numbers % 1 == 0)
    _warn_unread(name, "whole numbers", values[~whole])
    return numbers.where(whole).astype("Int64")


def _booleans(name: str, values: pd.Series) -> pd.Series:
    if pd.api.types.infer_dtype(values, skipna=True) in ("boolean", "empty"):
        return values.astype("boolean")
    words = _as_text(values).str.strip().str.lower()
    flags = words.map(BOOL_WORDS)
    _warn_unread(
        name, "true/false", values[words.ne("") & words.notna() & flags.isna()]
    )
    return flags.astype("boolean")


def _warn_unread(name: str, what: str, unread: pd.Series) -> None:
    # One WARNING per column, whatever the number of bad values.
    if unread.empty:
        return
    examples = ", ".join(repr(v) for v in pd.unique(unread.astype(str))[:WARN_EXAMPLES])
    logger.warning(
        "Column %r: %d value(s) could not be read as %s and are missing: %s",
        name,
        len(unread),
        what,
        examples,
    )


# -- times -------------------------------------------------------------------


class _IsoShapes:
    """Which values of a stripped text column have which ISO 8601 shape."""

    def __init__(self, text: pd.Series) -> None:
        self.present = text.notna() & text.ne("")
        self.date = _by_value(text, _matcher(ISO_DATE))
        self.instant = _by_value(text, _matcher(ISO_INSTANT))
        self.local = _by_value(text, _matcher(ISO_LOCAL)) | self.date

    def are_times(self, *, strict: bool) -> bool:
        # strict: every value is a date-time; else more than NUMERIC_SHARE of
        # the values are ISO 8601 (dates included).
        if strict:
            times = self.instant | (self.local & ~self.date)
            return bool(times[self.present].all())
        matched = int((self.instant | self.local).sum())
        return matched > 0 and matched > NUMERIC_SHARE * int(self.present.sum())


def _matcher(pattern: re.Pattern[str]) -> Callable[[pd.Series], pd.Series]:
    def match(text: pd.Series) -> pd.Series:
        return text.str.fullmatch(pattern.pattern, na=False)

    return match


def _parse_instants(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")


def _parse_walls(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="ISO8601", errors="coerce")


def _times(
    name: str,
    text: pd.Series,
    tz: str,
    shapes: _IsoShapes,
    *,
    dates: bool,
) -> pd.Series:
    # Instants (with an offset or Z) and local wall times may be mixed. With
    # ``dates``, a column of dates only stays a date column.
    if dates and shapes.date[shapes.present].all():
        return _dates(name, text)

    utc = np.full(len(text), np.datetime64("NaT"), dtype=f"datetime64[{TIME_UNIT}]")
    unread = shapes.present & ~(shapes.instant | shapes.local)
    if shapes.instant.any():
        instants = _by_value(text[shapes.instant], _parse_instants)
        utc[shapes.instant.to_numpy()] = _utc_values(instants)
        unread |= instants.isna().reindex(text.index, fill_value=False)
    if shapes.local.any():
        walls = _by_value(text[shapes.local], _parse_walls)
        local = _localised(name, walls, text[shapes.local], tz)
        utc[shapes.local.to_numpy()] = _utc_values(local)
        unread |= walls.isna().reindex(text.index, fill_value=False)
    _warn_unread(name, "ISO 8601 times", text[unread])
    return pd.Series(utc, index=text.index).dt.tz_localize("UTC").dt.tz_convert(tz)


def _utc_values(times: pd.Series) -> np.ndarray:
    values: np.ndarray = times.dt.tz_convert(None).dt.as_unit(TIME_UNIT).to_numpy()
    return values


def _dates(name: str, text: pd.Series) -> pd.Series:
    # A date stays a calendar date: naive midnight, no zone, no instant. A
    # value with a time keeps only its written date.
    day = text.str.strip().str.slice(0, 10)
    is_day = day.str.fullmatch(ISO_DATE.pattern, na=False)
    dates = pd.to_datetime(day.where(is_day), format="%Y-%m-%d", errors="coerce")
    present = text.notna() & text.str.strip().ne("")
    _warn_unread(name, "ISO 8601 dates", text[present & dates.isna()])
    return dates.astype(DATE_DTYPE)


def _localised(
    name: str,
    walls: pd.Series,
    originals: pd.Series,
    tz: str,
) -> pd.Series:
    # Wall times without an offset are local. The spring gap does not exist
    # (NaT, one WARNING); the repeated autumn hour is placed from the order.
    local: pd.Series = walls.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    failed = (local.isna() & walls.notna()).to_numpy()
    if not failed.any():
        return local
    summer = walls.dt.tz_localize(
        tz, ambiguous=np.ones(len(walls), dtype=bool), nonexistent="NaT"
    )
    repeated = failed & summer.notna().to_numpy()
    gap = failed & ~repeated
    if gap.any():
        logger.warning(
            "Column %r: %d local time(s) fall in the spring-forward gap and do not "
            "exist in %s; they are missing: %s",
            name,
            int(gap.sum()),
            tz,
            _examples(originals[gap]),
        )
    if repeated.any():
        local = _resolve_repeated_hour(name, walls, local, repeated, originals)
    return local


def _resolve_repeated_hour(
    name: str,
    walls: pd.Series,
    local: pd.Series,
    repeated: np.ndarray,
    originals: pd.Series,
) -> pd.Series:
    """Place wall times of the repeated autumn hour from the order of the rows.

    A run of consecutive rows inside the repeated hour (02:00-02:59 on the last
    Sunday of October) passes that hour once in summer time (+02:00) and then
    once in winter time (+01:00). Where the wall time steps back inside the
    run (02:30 -> 02:00 in data that ascends), the second pass begins; in
    newest-first data the step goes forward instead. The direction of a run
    comes from the rows around it (01:30 before and 03:00 after: ascending).
    This holds for one series, for series interleaved row by row (sorted by
    time, then parameter) and for series one after another, whatever the
    columns are called. A run with no such step (a lone 02:30, or only one
    pass of the hour) cannot be placed: it stays NaT, named in one WARNING.
    """
    wall_values = walls.to_numpy()
    summer = np.zeros(len(walls), dtype=bool)
    placed = np.zeros(len(walls), dtype=bool)
    for run in _runs(np.flatnonzero(repeated)):
        passes = _passes(wall_values, repeated, run)
        if passes is None:
            continue
        summer[run] = passes
        placed[run] = True

    chosen = walls.dt.tz_localize(local.dt.tz, ambiguous=summer, nonexistent="NaT")
    local = local.mask(pd.Series(placed, index=local.index), chosen)
    unplaced = repeated & ~placed
    if unplaced.any():
        logger.warning(
            "Column %r: %d local time(s) in the repeated autumn hour cannot be "
            "placed (+02:00 or +01:00) from the order of the rows; they are "
            "missing: %s",
            name,
            int(unplaced.sum()),
            _examples(originals[unplaced]),
        )
    return local


def _runs(positions: np.ndarray) -> list[np.ndarray]:
    # Maximal runs of consecutive row positions.
    if not len(positions):
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    return list(np.split(positions, breaks))


def _passes(
    walls: np.ndarray, repeated: np.ndarray, run: np.ndarray
) -> np.ndarray | None:
    """For each row of a run, True where it is in the summer-time pass."""
    values = walls[run]
    if np.isnat(values).any():
        return None
    steps = np.sign(np.diff(values).astype(np.int64))
    direction = _run_direction(walls, repeated, run, steps)
    folds = np.flatnonzero(steps * direction < 0)
    if direction == 0:
        return None
    if not len(folds):
        return _halves(steps, len(run), direction)
    # Each step against the direction starts the other pass; passes alternate
    # (two series one after another give summer, winter, summer, winter).
    starts = np.zeros(len(run), dtype=np.int64)
    starts[folds + 1] = 1
    first_pass: np.ndarray = np.cumsum(starts) % 2 == 0
    return first_pass if direction > 0 else ~first_pass


def _halves(steps: np.ndarray, length: int, direction: int) -> np.ndarray | None:
    # Hourly data: the run repeats one wall time (02:00, 02:00, or one row per
    # series in each pass). Rows in time order give the first pass first.
    if steps.any() or length % 2:
        return None
    first_pass: np.ndarray = np.arange(length) < length // 2
    return first_pass if direction > 0 else ~first_pass


def _run_direction(
    walls: np.ndarray, repeated: np.ndarray, run: np.ndarray, steps: np.ndarray
) -> int:
    before = _neighbour(walls, repeated, run[0], -1)
    after = _neighbour(walls, repeated, run[-1], +1)
    if before is not None and after is not None:
        return int(np.sign((after - before).astype(np.int64)))
    if after is not None:
        return int(np.sign((after - walls[run[-1]]).astype(np.int64)))
    if before is not None:
        return int(np.sign((walls[run[0]] - before).astype(np.int64)))
    return int(np.sign(steps.sum()))


def _neighbour(
    walls: np.ndarray, repeated: np.ndarray, position: int, way: int
) -> np.datetime64 | None:
    # The nearest row outside the repeated hour, one step away.
    near = position + way
    if 0 <= near < len(walls) and not repeated[near] and not np.isnat(walls[near]):
        value: np.datetime64 = walls[near]
        return value
    return None


def _examples(values: pd.Series) -> str:
    return ", ".join(pd.unique(values.astype(str))[:WARN_EXAMPLES])

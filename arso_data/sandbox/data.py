"""The sandbox's example data: a catalogue and a deterministic generator.

The places are real Slovenian places; the organisations, identifiers and every
value are invented. Measurements are half-hourly from 2024-01-01 00:00 to
2025-12-31 23:30 local time (Europe/Ljubljana), stepped in UTC so that both
changes of daylight saving time show: 2024-03-31 has no 02:00-02:59 local,
2024-10-27 has 02:00 and 02:30 twice, first at +02:00, then at +01:00.

Nothing depends on the wall clock: a record is a pure function of (point,
parameter, half-hour slot), drawn from a hash of that key, so any page can be
made on its own, in any order, with the same bytes every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from arso_data import constants

LOCAL_TZ = ZoneInfo(constants.LOCAL_TZ)
SLOT_S = 1800
#: 2024-01-01T00:00+01:00, the first slot.
FIRST_SLOT_UTC = datetime(2023, 12, 31, 23, 0, tzinfo=UTC)
#: Slots in 2024 and 2025 (731 days of 48 half hours); the last is 23:30 local.
SLOT_COUNT = 731 * 48
_FIRST_EPOCH = int(FIRST_SLOT_UTC.timestamp())

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Parameter:
    """A measured quantity (``/parametri``)."""

    sifra: str
    naziv: str
    enota: str
    mejna_vrednost: str | None
    decimals: int
    model: str

    def as_json(self) -> dict[str, Any]:
        """The API form of the parameter."""
        return {
            "sifra": self.sifra,
            "naziv": self.naziv,
            "enota": self.enota,
            "mejna_vrednost": self.mejna_vrednost,
        }


@dataclass(frozen=True)
class Organisation:
    """An organisation that reports to ARSO."""

    id: str
    naziv: str
    maticna_stevilka: str


@dataclass(frozen=True)
class Point:
    """A measuring point (``/merilna-mesta``) and the levels of its series."""

    id: str
    naziv: str
    organizacija: Organisation
    vrsta: str
    lat: float
    lon: float
    levels: dict[str, float]
    aktivno: bool = True

    @property
    def parametri(self) -> list[str]:
        """Parameter codes measured at this point, sorted."""
        return sorted(self.levels)

    def as_json(self) -> dict[str, Any]:
        """The API form of the point."""
        org = self.organizacija
        return {
            "id": self.id,
            "naziv": self.naziv,
            "organizacija": {
                "id": org.id,
                "naziv": org.naziv,
                "maticna_stevilka": org.maticna_stevilka,
            },
            "vrsta": self.vrsta,
            "lokacija": {"lat": self.lat, "lon": self.lon},
            "parametri": self.parametri,
            "aktivno": self.aktivno,
        }


AIR = "emisije v zrak"
WATER = "odpadne vode"

PARAMETERS: dict[str, Parameter] = {
    p.sifra: p
    for p in (
        Parameter("NOX", "Dušikovi oksidi (kot NO₂)", "mg/m3", "200,0", 1, "load"),
        Parameter("SO2", "Žveplov dioksid", "mg/m3", "200,0", 1, "load"),
        Parameter("CO", "Ogljikov monoksid", "mg/m3", "100,0", 1, "load"),
        Parameter("PRAH", "Celotni prah", "mg/m3", "20,0", 2, "load"),
        Parameter("PRETOK", "Pretok", "m3/h", None, 0, "flow"),
        Parameter("TEMP", "Temperatura", "°C", None, 1, "temperature"),
        Parameter("PH", "pH vrednost", "-", None, 2, "ph"),
        Parameter("KPK", "Kemijska potreba po kisiku (KPK)", "mg/l", "125,0", 1, "wq"),
        Parameter(
            "BPK5", "Biokemijska potreba po kisiku (BPK₅)", "mg/l", "25,0", 1, "wq"
        ),
    )
}
_PARAM_NUMBER = {code: n for n, code in enumerate(PARAMETERS, start=1)}

_TES = Organisation("00123", "Termoenergetika Šaleške doline d.o.o.", "5012345000")
_CEM = Organisation("00231", "Cementarna Anhovo d.d.", "5023456000")
_CCN = Organisation("00345", "Čistilne naprave Domžale–Kamnik d.o.o.", "5034567000")
_KOM = Organisation("00417", "Komunala Žalec d.o.o.", "5045678000")

POINTS: dict[str, Point] = {
    p.id: p
    for p in (
        Point(
            "0012", "Šoštanj – blok 6", _TES, AIR, 46.3745, 15.0462,
            {"NOX": 120, "SO2": 95, "CO": 28, "PRAH": 4.5, "PRETOK": 1_850_000,
             "TEMP": 95},
        ),
        Point(
            "0013", "Šoštanj – blok 5", _TES, AIR, 46.3751, 15.0449,
            {"NOX": 150, "SO2": 130, "PRAH": 7.0}, aktivno=False,
        ),
        Point(
            "0021", "Anhovo – peč 2", _CEM, AIR, 46.0960, 13.6487,
            {"NOX": 140, "SO2": 35, "CO": 60, "PRAH": 6.0, "TEMP": 135},
        ),
        Point(
            "0022", "Anhovo – mlin cementa", _CEM, AIR, 46.0952, 13.6502,
            {"PRAH": 9.0, "PRETOK": 145_000},
        ),
        Point(
            "0034", "Čistilna naprava Domžale–Kamnik – iztok", _CCN, WATER,
            46.1410, 14.5923,
            {"PRETOK": 2_400, "TEMP": 14, "PH": 7.45, "KPK": 62, "BPK5": 11},
        ),
        Point(
            "0041", "Žalec – komunalna čistilna naprava", _KOM, WATER,
            46.2496, 15.1760,
            {"PRETOK": 380, "TEMP": 13, "PH": 7.3, "KPK": 75},
        ),
        Point(
            "0042", "Žalec – kotlovnica Šlandrova", _KOM, AIR, 46.2521, 15.1644,
            {"NOX": 110, "CO": 40, "TEMP": 120},
        ),
    )
}  # fmt: skip

#: Status words of invalid values and of gaps.
INVALID_STATUSES = ("KALIBRACIJA", "NEVELJAVNA")
GAP_STATUS = "NI_PODATKA"


def slot_of(moment: datetime) -> float:
    """The (fractional) slot index of an aware *moment*."""
    return (moment.timestamp() - _FIRST_EPOCH) / SLOT_S


def slot_time(slot: int) -> datetime:
    """The local, aware time of *slot*."""
    return datetime.fromtimestamp(_FIRST_EPOCH + slot * SLOT_S, LOCAL_TZ)


@dataclass(frozen=True)
class Series:
    """The measurements of some parameters at one point over a slot range.

    Records are ordered by time, then parameter code; record ``i`` is slot
    ``first_slot + i // len(codes)``, parameter ``codes[i % len(codes)]``.
    """

    point: Point
    codes: tuple[str, ...]
    first_slot: int
    end_slot: int

    @property
    def total(self) -> int:
        """The number of records."""
        return max(self.end_slot - self.first_slot, 0) * len(self.codes)

    def records(self, offset: int, count: int) -> list[dict[str, Any]]:
        """Records ``offset`` to ``offset + count`` (fewer at the end)."""
        stop = min(offset + count, self.total)
        if offset >= stop:
            return []
        index = np.arange(offset, stop, dtype=np.int64)
        width = len(self.codes)
        slots = self.first_slot + index // width
        which = index % width
        times = [slot_time(int(s)) for s in range(int(slots[0]), int(slots[-1]) + 1)]
        values, valid, gaps = self._values(slots, which, times)
        return self._assemble(slots, which, times, values, valid, gaps)

    def _values(
        self, slots: Ints, which: Ints, times: list[datetime]
    ) -> tuple[Floats, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        local = np.array([t.timestamp() + _utc_offset(t) for t in times])
        local = local[slots - slots[0]]
        point_no = int(self.point.id)
        values = np.zeros(len(slots))
        gaps = _episodes(4, point_no, 0, slots, 0.015, 4, 24)
        for n, code in enumerate(self.codes):
            mask = which == n
            param_no = _PARAM_NUMBER[code]
            key = (point_no, param_no, slots[mask])
            values[mask] = _model(code, self.point.levels[code], key, local[mask])
            gaps[mask] |= _episodes(1, *key, 0.07, 2, 16)
        numbers = np.array([_PARAM_NUMBER[code] for code in self.codes])[which]
        invalid = _uniform(5, point_no, numbers, slots) < 0.02
        return values, ~invalid, gaps

    def _assemble(
        self,
        slots: Ints,
        which: Ints,
        times: list[datetime],
        values: Floats,
        valid: npt.NDArray[np.bool_],
        gaps: npt.NDArray[np.bool_],
    ) -> list[dict[str, Any]]:
        stamps = [t.isoformat() for t in times]
        params = [PARAMETERS[code] for code in self.codes]
        calibration = _uniform(6, int(self.point.id), 0, slots) < 0.4
        first = int(slots[0])
        rows = []
        for i, (slot, n) in enumerate(zip(slots.tolist(), which.tolist(), strict=True)):
            param = params[n]
            row = {
                "merilno_mesto": self.point.id,
                "parameter": param.sifra,
                "cas": stamps[slot - first],
                "vrednost": None,
                "enota": param.enota,
                "veljavna": False,
                "status": GAP_STATUS,
            }
            if not gaps[i]:
                row["vrednost"] = f"{values[i]:.{param.decimals}f}".replace(".", ",")
                row["veljavna"] = bool(valid[i])
                row["status"] = "OK" if valid[i] else _invalid_status(calibration[i])
            rows.append(row)
        return rows


def _invalid_status(calibration: bool) -> str:
    return INVALID_STATUSES[0] if calibration else INVALID_STATUSES[1]


def _utc_offset(moment: datetime) -> float:
    offset = moment.utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


# -- the hash-seeded randomness -------------------------------------------------

_MASK64 = (1 << 64) - 1


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser: a well-spread 64-bit hash of each element."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(salt: int, point: int, param: int | Ints, slot: Ints) -> Floats:
    """A uniform number in [0, 1) for each key (salt, point, param, slot)."""
    key = (
        (np.uint64(salt) << np.uint64(56))
        | (np.asarray(param).astype(np.uint64) << np.uint64(48))
        | (np.uint64(point) << np.uint64(24))
        | np.asarray(slot).astype(np.uint64)
    )
    bits = _mix(np.asarray(key, dtype=np.uint64)) >> np.uint64(11)
    return bits.astype(np.float64) * (1.0 / (1 << 53))


def _normal(salt: int, point: int, param: int, slot: Ints) -> Floats:
    """A standard normal number for each key (Box-Muller)."""
    u1 = 1.0 - _uniform(salt, point, param, slot)
    u2 = _uniform(salt + 1, point, param, slot)
    result: Floats = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return result


def _episodes(
    salt: int,
    point: int,
    param: int,
    slots: Ints,
    chance: float,
    shortest: int,
    longest: int,
) -> npt.NDArray[np.bool_]:
    """True where a slot falls in a run that starts on some days (by chance)."""
    day = slots // 48
    hits = _uniform(salt, point, param, day) < chance
    start = (_uniform(salt + 1, point, param, day) * 48).astype(np.int64)
    length = shortest + (_uniform(salt + 2, point, param, day) * (longest - shortest))
    position = slots % 48
    result: npt.NDArray[np.bool_] = (
        hits & (position >= start) & (position < start + length.astype(np.int64))
    )
    return result


# -- the shapes of the series ---------------------------------------------------


def _model(
    code: str, level: float, key: tuple[int, int, Ints], local: Floats
) -> Floats:
    hour = (local % 86400) / 3600
    days = local // 86400
    weekend = ((days + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    season = np.cos(2 * np.pi * (days % 365.25 - 200) / 365.25)  # +1 in July
    noise = _normal(9, *key)
    model = PARAMETERS[code].model
    if model == "load":
        return _load_driven(level, key, hour, weekend, season, noise)
    if model == "flow":
        return _flow(level, hour, weekend, season, noise)
    if model == "temperature":
        return _temperature(level, hour, season, noise)
    if model == "ph":
        return level + 0.12 * np.sin(2 * np.pi * (hour - 9) / 24) + 0.05 * noise
    return _water_quality(level, hour, noise)


def _load(hour: Floats, weekend: npt.NDArray[np.bool_], season: Floats) -> Floats:
    """Plant load: low before dawn, high in the afternoon, lower on weekends."""
    daily = 0.5 - 0.5 * np.cos(2 * np.pi * (hour - 4) / 24)
    load: Floats = (0.62 + 0.33 * daily) * np.where(weekend, 0.82, 1.0)
    return load * (1.0 - 0.08 * season)


def _load_driven(
    level: float,
    key: tuple[int, int, Ints],
    hour: Floats,
    weekend: npt.NDArray[np.bool_],
    season: Floats,
    noise: Floats,
) -> Floats:
    value = level * _load(hour, weekend, season) / 0.8 * (1 + 0.12 * noise)
    excess = _episodes(20, *key, 0.02, 2, 10)
    value = np.where(excess, value * 1.9, value)
    result: Floats = np.maximum(value, 0.0)
    return result


def _flow(
    level: float,
    hour: Floats,
    weekend: npt.NDArray[np.bool_],
    season: Floats,
    noise: Floats,
) -> Floats:
    daily = 1 + 0.25 * np.sin(2 * np.pi * (hour - 7) / 24)
    result: Floats = level * daily * np.where(weekend, 0.9, 1.0) * (1 + 0.05 * noise)
    return result * (1 - 0.05 * season)


def _temperature(level: float, hour: Floats, season: Floats, noise: Floats) -> Floats:
    if level < 40:  # waste water: follows the season, barely the day
        return (
            level
            + 5.5 * season
            + 0.4 * np.sin(2 * np.pi * (hour - 14) / 24)
            + (0.25 * noise)
        )
    return level + 8 * np.sin(2 * np.pi * (hour - 10) / 24) + 1.5 * noise


def _water_quality(level: float, hour: Floats, noise: Floats) -> Floats:
    daily = 1 + 0.2 * np.sin(2 * np.pi * (hour - 11) / 24)
    result: Floats = np.maximum(level * daily * (1 + 0.15 * noise), 0.0)
    return result


@cache
def catalogue() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The points and parameters in their API form."""
    points = [p.as_json() for p in POINTS.values()]
    return points, [p.as_json() for p in PARAMETERS.values()]

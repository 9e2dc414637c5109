"""arso-data at analyst scale: each figure beside its baseline and its floor.

One command, against a local sandbox::

    .venv/bin/python benchmarks/run.py            # the full run, a few minutes
    .venv/bin/python benchmarks/run.py --quick    # tiny sizes, seconds

Figures (the targets come from issue 5; they are reported, never asserted):

- paging: N pages of 1,000 rows with 50 ms added latency per request, served
  by a sandbox in its own process (pages made ahead, as an API serves them
  from its database); arso-data (default workers) vs a naive sequential
  requests-oauthlib loop vs the ideal, pages / workers x latency;
- conversion: JSON bytes of 1,000,000 records to a typed DataFrame; arso-data
  (``to_frame(body)``, which reads an array of flat records column by column
  with pyarrow) vs ``json.loads`` + ``json_normalize`` + ``to_datetime`` vs
  the floor ``orjson.loads`` + ``pandas.DataFrame(list)``;
- report: 1,000,000 rows to the Slovenian CSV; ``to_csv_report`` vs
  ``DataFrame.to_csv(sep=";", decimal=",")``;
- memory: peak RSS that a streaming export of 2,000,000 rows adds to its
  process (measured in a child process) vs the size of those rows as a
  DataFrame (``memory_usage(deep=True)`` per row of the conversion frame);
- start-up: ``import arso_data`` vs ``import pandas`` in fresh interpreters,
  median of several runs.

Records come from the sandbox's generator (all measuring points, cycled), so
they carry decimal commas, gaps, identifiers with leading zeros and both DST
changes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: The route the benchmark adds to the sandbox: every point's series, cycled.
CORPUS_PATH = "/bench/meritve"
LATENCY_S = 0.05


@dataclass(frozen=True)
class Sizes:
    pages: int
    records: int
    report_rows: int
    stream_rows: int
    stream_page: int
    startup_runs: int
    repeats: int


FULL = Sizes(200, 1_000_000, 1_000_000, 2_000_000, 1_000, 7, 2)
QUICK = Sizes(6, 5_000, 5_000, 20_000, 2_000, 2, 1)


@dataclass
class Figure:
    name: str
    what: str
    ours: float
    baseline: float | None
    baseline_label: str
    floor: float | None
    floor_label: str
    target: str
    met: bool | None
    unit: str = "s"


# -- data ----------------------------------------------------------------------


class Corpus:
    """The sandbox's measurements of every point, as one cycled list."""

    def __init__(self) -> None:
        from arso_data.sandbox import data

        self.series = [
            data.Series(point, tuple(point.parametri), 0, data.SLOT_COUNT)
            for point in data.POINTS.values()
        ]
        self.total = sum(s.total for s in self.series)

    def records(self, offset: int, count: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < count:
            at = (offset + len(out)) % self.total
            for series in self.series:
                if at < series.total:
                    out.extend(series.records(at, min(count - len(out), 10_000)))
                    break
                at -= series.total
        return out


def add_corpus_route(
    sandbox: Any,
    corpus: Corpus,
    prepared: dict[tuple[int, int, int], Any] | None = None,
) -> None:
    """Serve the corpus as Spring pages; ``prepared`` holds pages made ahead."""
    from arso_data.sandbox.answers import json_answer
    from arso_data.sandbox.telemetry import spring_page

    def answer(page: int, size: int, total: int) -> Any:
        count = max(0, min(size, total - page * size))
        rows = corpus.records(page * size, count)
        return json_answer(200, spring_page(rows, page, size, total))

    def handler(request: Any) -> Any:
        key = (
            int(request.args.get("page", 0)),
            int(request.args.get("size", 1000)),
            int(request.args["total"]),
        )
        if prepared is not None and key in prepared:
            return prepared[key]
        return answer(*key)

    if prepared is not None:
        for key in list(prepared):
            prepared[key] = answer(*key)
    sandbox.route("GET", CORPUS_PATH, handler)


def client_for(sandbox: Any, **kwargs: Any) -> Any:
    from arso_data import ArsoClient, resolve_settings

    settings = resolve_settings(
        env="sandbox",
        auth_url=sandbox.auth_url,
        api_url=sandbox.api_url,
        dotenv_path=False,
        environ={},
    )
    return ArsoClient(settings, progress=False, **kwargs)


def best(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


# -- the figures ---------------------------------------------------------------


def paging(sizes: Sizes, workers: int | None) -> Figure:
    # The pages come from a sandbox in its own process, as a real API runs on
    # another machine: in this process its threads (JSON, Werkzeug) would take
    # the client's GIL and CPU time and be measured as the client's cost. The
    # naive loop reads from the same server, so the comparison stays fair.
    params = {"total": sizes.pages * 1000, "size": 1000}
    with ServedSandbox(latency=LATENCY_S, pages=sizes.pages, size=1000) as sandbox:
        client = client_for(sandbox, **({"workers": workers} if workers else {}))
        client.login()
        try:
            ours = best(sizes.repeats, lambda: client.records(CORPUS_PATH, params))
            naive = best(1, lambda: naive_paging(sandbox, params, sizes.pages))
        finally:
            client.close()
    ideal = sizes.pages / client.workers * LATENCY_S
    return Figure(
        "paging",
        f"{sizes.pages} pages x 1000 rows, +{LATENCY_S * 1000:.0f} ms, "
        f"workers={client.workers}, server in its own process",
        ours,
        naive,
        "naive sequential loop",
        ideal,
        "ideal pages/workers x latency",
        ">=5x faster than naive, <=1.3x ideal",
        naive / ours >= 5 and ours / ideal <= 1.3,
    )


class ServedSandbox:
    """The benchmark's sandbox (with the corpus route) in a child process.

    The child prints the sandbox's addresses as one JSON line and serves
    until its stdin closes; the attributes mirror ``Sandbox``'s.
    """

    def __init__(self, *, latency: float, pages: int, size: int) -> None:
        self._spec = {"latency": latency, "pages": pages, "size": size}
        self._child: subprocess.Popen[str] | None = None
        self.auth_url = self.api_url = self.token_url = ""
        self.client_id = self.client_secret = ""

    def __enter__(self) -> ServedSandbox:
        self._child = subprocess.Popen(
            [sys.executable, __file__, "--serve", json.dumps(self._spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            self._child.wait(timeout=30)
            raise RuntimeError("the benchmark's sandbox process did not start")
        for name, value in json.loads(line).items():
            setattr(self, name, value)
        return self

    def __exit__(self, *exc: object) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        assert child.stdin is not None
        child.stdin.close()  # the child's signal to stop
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def serve(spec: dict[str, Any]) -> None:
    # Runs in the child of ServedSandbox: serve until stdin closes. The pages
    # of the pull are made before it starts, as a real API answers from a
    # database: the sandbox's record generator (about 2 ms of this process's
    # GIL per page) is not what the client waits for on a real server.
    from arso_data.sandbox import Sandbox

    total = spec["pages"] * spec["size"]
    prepared: dict[tuple[int, int, int], Any] = dict.fromkeys(
        (page, spec["size"], total) for page in range(spec["pages"])
    )
    with Sandbox(port=0, latency=spec["latency"], quiet=True) as sandbox:
        add_corpus_route(sandbox, Corpus(), prepared)
        where = {
            name: getattr(sandbox, name)
            for name in ("auth_url", "api_url", "token_url", "client_id")
        }
        # The demo client's secret is the public example of ARSO's document.
        where["client_secret"] = sandbox.client_secret
        print(json.dumps(where), flush=True)
        sys.stdin.read()


def naive_paging(sandbox: Any, params: dict[str, Any], pages: int) -> list[Any]:
    # What a notebook does by hand: requests-oauthlib, one page after another.
    from oauthlib.oauth2 import BackendApplicationClient
    from requests_oauthlib import OAuth2Session

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox is plain HTTP
    session = OAuth2Session(client=BackendApplicationClient(sandbox.client_id))
    session.fetch_token(
        sandbox.token_url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        include_client_id=True,
    )
    rows: list[Any] = []
    for page in range(pages):
        answer = session.get(
            sandbox.api_url + CORPUS_PATH, params={**params, "page": page}
        )
        answer.raise_for_status()
        rows.extend(answer.json()["content"])
    return rows


def conversion(body: bytes, sizes: Sizes) -> tuple[Figure, Any]:
    import orjson
    import pandas as pd

    from arso_data import to_frame

    def ours() -> Any:
        return to_frame(body)

    def naive() -> Any:
        frame = pd.json_normalize(json.loads(body))
        frame["cas"] = pd.to_datetime(frame["cas"], utc=True)
        return frame

    def floor() -> Any:
        return pd.DataFrame(orjson.loads(body))

    frame = ours()
    ours_s = best(sizes.repeats, ours)
    naive_s = best(sizes.repeats, naive)
    floor_s = best(sizes.repeats, floor)
    figure = Figure(
        "conversion",
        f"{sizes.records:,} records, JSON bytes -> typed DataFrame",
        ours_s,
        naive_s,
        "json.loads + json_normalize + to_datetime",
        floor_s,
        "orjson.loads + DataFrame(list)",
        ">=3x faster than naive, <=1.5x floor",
        naive_s / ours_s >= 3 and ours_s / floor_s <= 1.5,
    )
    return figure, frame


def report(frame: Any, sizes: Sizes, folder: Path) -> Figure:
    from arso_data import to_csv_report

    rows = frame.iloc[: sizes.report_rows]
    to_csv_report(rows.iloc[:10], folder / "warm.csv")  # polars' first import
    ours = best(sizes.repeats, lambda: to_csv_report(rows, folder / "ours.csv"))
    pandas = best(
        1,
        lambda: rows.to_csv(folder / "pandas.csv", sep=";", decimal=",", index=False),
    )
    return Figure(
        "report",
        f"{len(rows):,} rows to the Slovenian CSV",
        ours,
        pandas,
        'DataFrame.to_csv(sep=";", decimal=",")',
        None,
        "",
        ">=20x faster than pandas",
        pandas / ours >= 20,
    )


def memory(sandbox: Any, sizes: Sizes, frame: Any, fmt: str) -> Figure:
    per_row = frame.memory_usage(deep=True, index=False).sum() / len(frame)
    frame_mb = per_row * sizes.stream_rows / 2**20
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--memory-child",
            json.dumps(
                {
                    "auth_url": sandbox.auth_url,
                    "api_url": sandbox.api_url,
                    "rows": sizes.stream_rows,
                    "size": sizes.stream_page,
                    "format": fmt,
                }
            ),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if child.returncode != 0:
        raise RuntimeError(f"the memory child failed:\n{child.stderr}")
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    added_mb = (measured["peak_kb"] - measured["before_kb"]) / 1024
    return Figure(
        f"memory ({fmt})",
        f"streaming export of {sizes.stream_rows:,} rows, peak RSS added "
        f"({measured['seconds']:.1f} s)",
        added_mb,
        frame_mb,
        "the same rows as a DataFrame",
        None,
        "",
        "< 0.5x the DataFrame",
        added_mb < 0.5 * frame_mb,
        unit="MB",
    )


def memory_child(spec: dict[str, Any]) -> None:
    # Runs in its own process: RSS before the export, then its peak.
    # Everything is imported before the baseline is taken: the figure is the
    # memory that the data takes, not the code.
    import pandas  # noqa: F401
    import polars  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from arso_data import ArsoClient, resolve_settings
    from arso_data.stream import stream_csv, stream_parquet

    settings = resolve_settings(
        env="sandbox",
        auth_url=spec["auth_url"],
        api_url=spec["api_url"],
        dotenv_path=False,
        environ={},
    )
    client = ArsoClient(settings, progress=False)
    client.login()
    params = {"total": spec["rows"], "size": spec["size"]}
    before = _rss_kb()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        if spec["format"] == "csv":
            stream_csv(client, CORPUS_PATH, params, Path(folder) / "out.csv")
        else:
            stream_parquet(client, CORPUS_PATH, params, Path(folder) / "out")
    seconds = time.perf_counter() - started
    peak = _rss_kb("VmHWM:")
    print(json.dumps({"before_kb": before, "peak_kb": peak, "seconds": seconds}))


def _rss_kb(field: str = "VmRSS:") -> int:
    # VmHWM is this process's own peak. getrusage's ru_maxrss is not: on
    # Linux a child started by fork and exec inherits its parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def startup(sizes: Sizes) -> Figure:
    def median_import(module: str) -> float:
        runs = []
        for _ in range(sizes.startup_runs):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", f"import {module}"], check=True, cwd=ROOT
            )
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    median_import("pandas")  # warm the file cache for both
    pandas = median_import("pandas")
    ours = median_import("arso_data")
    return Figure(
        "start-up",
        f"fresh interpreter, median of {sizes.startup_runs}",
        ours,
        pandas,
        "import pandas",
        None,
        "",
        "<=1.3x import pandas",
        ours / pandas <= 1.3,
    )


# -- output --------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    libs = ", ".join(
        f"{name} {version(name)}"
        for name in ("pandas", "numpy", "orjson", "polars", "pyarrow", "requests")
    )
    return (
        f"{datetime.now(UTC).date()} | {os.cpu_count()} cores, {model} | "
        f"Python {platform.python_version()} | {libs}"
    )


def render(figures: Sequence[Figure]) -> str:
    lines = []
    for f in figures:
        ours = f"{f.ours:8.2f} {f.unit}"
        parts = [f"{f.name:<15} {ours}  ({f.what})"]
        if f.baseline is not None:
            if f.unit == "MB":
                ratio = f"{f.ours / f.baseline:.2f}x of it"
            else:
                ratio = f"{f.baseline / f.ours:.1f}x faster"
            parts.append(
                f"{'':<15} baseline {f.baseline:8.2f} {f.unit}  {ratio}  "
                f"[{f.baseline_label}]"
            )
        if f.floor is not None:
            parts.append(
                f"{'':<15} floor    {f.floor:8.2f} {f.unit}  "
                f"{f.ours / f.floor:.2f}x of floor  [{f.floor_label}]"
            )
        verdict = {True: "met", False: "MISSED", None: "n/a"}[f.met]
        parts.append(f"{'':<15} target: {f.target} -> {verdict}")
        lines.append("\n".join(parts))
    return "\n\n".join(lines)


def run(sizes: Sizes, only: set[str] | None, workers: int | None) -> list[Figure]:
    import orjson

    from arso_data.sandbox import Sandbox

    def want(name: str) -> bool:
        return only is None or name in only

    corpus = Corpus()
    figures: list[Figure] = []
    if want("paging"):
        figures.append(paging(sizes, workers))
    with tempfile.TemporaryDirectory() as tmp, Sandbox(port=0) as sandbox:
        add_corpus_route(sandbox, corpus)
        body = orjson.dumps(corpus.records(0, sizes.records))
        conversion_figure, frame = conversion(body, sizes)
        del body
        if want("conversion"):
            figures.append(conversion_figure)
        if want("report"):
            figures.append(report(frame, sizes, Path(tmp)))
        if want("memory"):
            figures.append(memory(sandbox, sizes, frame, "parquet"))
            figures.append(memory(sandbox, sizes, frame, "csv"))
        del frame
    if want("startup"):
        figures.append(startup(sizes))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["paging", "conversion", "report", "memory", "startup"],
        help="run only these figures (repeatable)",
    )
    parser.add_argument(
        "--workers", type=int, help="paging workers (default: the client's)"
    )
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(json.loads(args.serve))
        return 0
    if args.memory_child:
        memory_child(json.loads(args.memory_child))
        return 0

    sizes = QUICK if args.quick else FULL
    print(f"arso-data benchmark{' (quick)' if args.quick else ''}: {machine()}")
    print()
    only = set(args.only) if args.only else None
    print(render(run(sizes, only, args.workers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

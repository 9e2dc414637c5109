"""Load: many threads on one client, a token that expires mid-run, memory.

The figures are printed (``pytest -s`` shows them) for the issue note.
"""

from __future__ import annotations

import gc
import threading
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from arso_data import ArsoClient
from arso_data.sandbox import Sandbox

MakeClient = Callable[..., ArsoClient]
THREADS = 16
CALLS = 200
WEEK = {"merilno_mesto": "0012", "od": "2024-10-01", "do": "2024-10-08", "size": 100}


def hammer(client: ArsoClient, during: Callable[[int], None] | None = None) -> float:
    """THREADS x CALLS GETs on one client; returns the seconds taken."""
    done = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal done
        for _ in range(CALLS):
            assert isinstance(client.get_json("parametri"), list)
            with lock:
                done += 1
                count = done
            if during is not None:
                during(count)

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(work) for _ in range(THREADS)]:
            future.result()
    return time.perf_counter() - started


@pytest.mark.slow
def test_16_threads_share_one_token(sandbox: Sandbox, make_client: MakeClient) -> None:
    client = make_client(workers=THREADS // 2)

    seconds = hammer(client)

    print(
        f"\nload: {THREADS * CALLS} calls from {THREADS} threads in {seconds:.1f} s, "
        f"{sandbox.stats.token_requests} token request(s)"
    )
    assert sandbox.stats.api_requests == THREADS * CALLS
    assert sandbox.stats.token_requests == 1
    assert sandbox.stats.statuses == {200: THREADS * CALLS + 1}


@pytest.mark.slow
def test_a_token_expiring_mid_run_is_renewed_once(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    skew = [0.0]
    client = make_client(workers=THREADS // 2, clock=lambda: time.time() + skew[0])

    def expire_halfway(count: int) -> None:
        if count == THREADS * CALLS // 2:
            skew[0] = 36000.0  # the client's clock passes the token's expiry

    seconds = hammer(client, expire_halfway)

    print(f"\nload, token expiring on the client's clock: {seconds:.1f} s")
    assert sandbox.stats.token_requests == 2
    assert sandbox.stats.api_requests == THREADS * CALLS


@pytest.mark.slow
def test_a_token_revoked_mid_run_is_replaced_once(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    client = make_client(workers=THREADS // 2)

    def revoke_halfway(count: int) -> None:
        if count == THREADS * CALLS // 2:
            sandbox.faults.revoke_all()  # the server rejects the token from now

    seconds = hammer(client, revoke_halfway)

    refused = sandbox.stats.statuses.get(401, 0)
    print(f"\nload, token revoked by the server: {seconds:.1f} s, {refused} x 401")
    assert sandbox.stats.token_requests == 2
    assert refused >= 1
    assert sandbox.stats.api_requests == THREADS * CALLS + refused


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@pytest.mark.slow
def test_memory_does_not_grow_across_repeated_pulls(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    client = make_client(workers=4, progress=False)
    for _ in range(5):  # warm-up: imports, caches, connection pool
        client.frame("meritve", WEEK)
    sandbox.requests.clear()
    gc.collect()

    rss_before = rss_kib()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        sizes = []
        for _ in range(30):
            df = client.frame("meritve", WEEK)
            del df
            sandbox.requests.clear()  # the sandbox's own request log
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0] - base)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    rss_after = rss_kib()

    first, last = sizes[4], sizes[-1]
    print(
        f"\nmemory over 30 pulls of {len(client.frame('meritve', WEEK))} rows: "
        f"traced after pull 5 {first / 1024:.0f} KiB, after pull 30 "
        f"{last / 1024:.0f} KiB (growth {(last - first) / 1024:.0f} KiB, "
        f"{(last - first) / 25 / 1024:.1f} KiB per pull), peak {peak / 1024:.0f} KiB; "
        f"RSS {rss_before} -> {rss_after} KiB"
    )
    # One pull's frame is ~150 KiB and its JSON several times that; a leak of
    # anything per pull would add megabytes over 25 pulls.
    assert last - first < 256 * 1024

"""``python -m arso_data.sandbox``: run the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import threading
from types import FrameType

from arso_data import constants
from arso_data.sandbox.server import Sandbox


def _loopback(host: str) -> str:
    if host.lower() == "localhost":
        return host
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return host
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{host!r} is not a loopback address")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m arso_data.sandbox",
        description="Run a local emulation of ARSO's identity server and an "
        "example telemetry API (not the real API).",
    )
    parser.add_argument(
        "--host",
        type=_loopback,
        default=constants.SANDBOX_HOST,
        help="a loopback address (127.0.0.1, ::1, localhost): its credentials "
        "are public, so it never listens on a network",
    )
    parser.add_argument(
        "--port", type=_port, default=constants.SANDBOX_PORT, help="0: a free port"
    )
    parser.add_argument(
        "--token-lifetime", type=int, default=constants.TOKEN_LIFETIME_S, metavar="S"
    )
    parser.add_argument("--latency", type=float, default=0.0, metavar="S")
    parser.add_argument(
        "--quiet", action="store_true", help="no access log line per request"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, print where it is, wait for Ctrl-C or SIGTERM."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    sandbox = Sandbox(
        args.host,
        args.port,
        token_lifetime=args.token_lifetime,
        latency=args.latency,
        quiet=args.quiet,
    )
    with sandbox:
        _announce(sandbox)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("sandbox stopped", flush=True)
    return 0


def _announce(sandbox: Sandbox) -> None:
    print("arso-data sandbox: a local EMULATION of ARSO, not the real API", flush=True)
    print(f"  identity server  {sandbox.auth_url}  (Keycloak realm arso)")
    print(f"  token endpoint   {sandbox.token_url}")
    print(f"  example API      {sandbox.api_url}")
    print(f"  OpenAPI          {sandbox.api_url}/openapi.json")
    print(f"  client ID        {sandbox.client_id}")
    # The demo secret is the public example of ARSO's source document.
    print(f"  client secret    {sandbox.client_secret}")
    print("Ctrl-C stops it.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())

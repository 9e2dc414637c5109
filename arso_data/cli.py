"""The ``arso-data`` command line: a thin adapter over :class:`ArsoClient`.

Errors become one line on stderr and an exit code:

====  ==============================================
code  meaning
====  ==============================================
0     done
1     another arso-data error
2     configuration (a setting is missing or wrong)
3     authentication (the identity server said no)
4     the API answered with an error
5     the server could not be reached in time
130   interrupted
====  ==============================================
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import constants
from ._version import __version__
from .errors import ApiError, ArsoError, AuthError, ConfigError, TransportError
from .settings import VARIABLES, Settings, is_loopback, resolve_settings

if TYPE_CHECKING:
    import pandas as pd

    from .client import ArsoClient

logger = logging.getLogger(__name__)

EXIT_CODES: tuple[tuple[type[ArsoError], int], ...] = (
    (ConfigError, 2),
    (AuthError, 3),
    (ApiError, 4),
    (TransportError, 5),
)

#: The demo's measuring point and month: October 2024 holds the autumn DST change.
DEMO_POINT = "0012"
DEMO_FROM = "2024-10-01"
DEMO_TO = "2024-11-01"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        result: int = args.func(args)
        return result
    except ArsoError as exc:
        from .i18n import explain  # ARSO_LANG=sl: the Slovenian reading

        print(f"arso-data: error: {explain(exc)}", file=sys.stderr)
        return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 1)
    except KeyboardInterrupt:
        print("arso-data: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (head, less) has gone; that is not an error of ours.
        _silence_stdout()
        return 0
    except OSError as exc:
        print(f"arso-data: error: {exc}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to render the help in the docs)."""
    settings_help = "\n".join(f"  {v:<20} {k}" for k, v in VARIABLES.items())
    parser = argparse.ArgumentParser(
        prog="arso-data",
        description="ARSO's protected telemetry API from the command line.",
        epilog="Settings (argument > environment > .env):\n" + settings_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_token(sub)
    _add_get(sub)
    _add_sandbox(sub)
    _add_demo(sub)
    _add_endpoints(sub)
    _add_doctor(sub)
    return parser


def _connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (else ARSO_* settings)")
    group.add_argument("--env", choices=("test", "prod", "sandbox", "custom"))
    group.add_argument("--auth-url", help="identity server base URL (ARSO_AUTH_URL)")
    group.add_argument("--api-url", help="telemetry API base URL (ARSO_API_URL)")
    group.add_argument("--client-id", help="client ID (ARSO_CLIENT_ID)")
    group.add_argument("--dotenv", type=Path, help="a .env file to read")
    group.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="S",
        help="seconds to wait for each answer (default 60)",
    )


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 0 to 65535 (0: any free port)")
    return value


def _add_token(sub: Any) -> None:
    p = sub.add_parser(
        "token", help="log in and show the token's environment and expiry"
    )
    _connection_options(p)
    p.add_argument(
        "--show-token",
        action="store_true",
        help="also print the access token itself (it grants access: keep it safe)",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="check the tokens' signatures against the realm's published keys "
        "and their issuer against the chosen environment",
    )
    p.set_defaults(func=_cmd_token)


def _add_endpoints(sub: Any) -> None:
    p = sub.add_parser(
        "endpoints", help="list the API's operations from its OpenAPI description"
    )
    _connection_options(p)
    p.add_argument(
        "--location",
        help="where the description is: a path under the API base URL or a URL "
        "on its host (default: try openapi.json, v3/api-docs, swagger.json, "
        "openapi.yaml)",
    )
    p.set_defaults(func=_cmd_endpoints)


def _add_get(sub: Any) -> None:
    p = sub.add_parser("get", help="GET an API path (all pages) as a table or CSV")
    _connection_options(p)
    p.add_argument("path", help="API path relative to the API base URL")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write a CSV report")
    p.add_argument("--dialect", choices=("sl", "plain"), default="sl")
    p.add_argument(
        "--max-pages",
        type=_positive_int,
        metavar="N",
        help="stop after N pages (the result is then partial, and says so)",
    )
    p.add_argument("--record-path", help="where the records are (dotted path)")
    p.set_defaults(func=_cmd_get)


def _add_sandbox(sub: Any) -> None:
    p = sub.add_parser("sandbox", help="run the local ARSO sandbox until Ctrl-C")
    p.add_argument(
        "--host",
        default=constants.SANDBOX_HOST,
        help="a loopback address to listen on (default 127.0.0.1)",
    )
    p.add_argument(
        "--port", type=_port, default=constants.SANDBOX_PORT, help="0: any free port"
    )
    p.add_argument("--token-lifetime", type=_positive_int, metavar="S")
    p.add_argument("--latency", type=float, metavar="S", help="added to each answer")
    p.add_argument("--quiet", action="store_true", help="no access log")
    p.set_defaults(func=_cmd_sandbox)


def _add_demo(sub: Any) -> None:
    p = sub.add_parser(
        "demo", help="start the sandbox, pull a month of data, write a CSV report"
    )
    p.add_argument("--out", type=Path, default=Path("."), help="folder for the report")
    p.add_argument("--point", default=DEMO_POINT, help="measuring point ID")
    p.set_defaults(func=_cmd_demo)


def _add_doctor(sub: Any) -> None:
    p = sub.add_parser(
        "doctor", help="check settings, DNS, TLS, discovery, token, clock and API URL"
    )
    _connection_options(p)
    p.set_defaults(func=_cmd_doctor, timeout=10.0)


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not verbosity:
        # urllib3 warns about each retry before our one-line error says it all.
        logging.getLogger("urllib3").setLevel(logging.ERROR)


def _settings(args: argparse.Namespace) -> Settings:
    return resolve_settings(
        env=args.env,
        auth_url=args.auth_url,
        api_url=args.api_url,
        client_id=args.client_id,
        dotenv_path=args.dotenv,
    )


def _client(
    settings: Settings,
    *,
    progress: bool | None = None,
    timeout: float = 60.0,
) -> ArsoClient:
    from .client import ArsoClient

    return ArsoClient(
        settings, progress=progress, timeout=(min(10.0, timeout), timeout)
    )


def _cmd_token(args: argparse.Namespace) -> int:
    with _client(_settings(args), timeout=args.timeout) as client:
        token = client.login()
        print(f"environment  {client.env.upper()}")
        print(f"client ID    {client.settings.client_id}")
        print(f"token URL    {client.settings.token_url}")
        print(f"scope        {token.scope}")
        expires = token.expires.astimezone().isoformat(timespec="seconds")
        print(f"valid until  {expires}")
        _print_claims(client, verify=args.verify)
        if args.show_token:
            print(token.access_token)
    return 0


def _print_claims(client: ArsoClient, *, verify: bool) -> None:
    from .claims import token_claims
    from .errors import TokenVerificationError

    try:
        claims = token_claims(client, verify=verify).access
    except TokenVerificationError as exc:
        if verify:
            raise
        print(f"claims       not readable: {exc.message}")
        return
    summary = claims.summary()
    print(f"issuer       {summary['issuer']}")
    print(f"issued to    {summary['client']}")
    print(f"expires      {summary['expires']} (the token's exp claim)")
    if verify:
        print(f"verified     signature and issuer match {client.env.upper()}")


def _cmd_endpoints(args: argparse.Namespace) -> int:
    import pandas as pd

    from .discovery import list_endpoints

    with _client(_settings(args), timeout=args.timeout) as client:
        df = list_endpoints(client, args.location)
    title = " ".join(str(df.attrs[k]) for k in ("title", "version") if df.attrs[k])
    print(f"{title or 'API'}: {len(df)} operations ({df.attrs['url']})")
    widths = {c: max([len(c), *(len(str(v)) for v in df[c])]) for c in df.columns}
    formatters = {c: (lambda v, w=w: f"{v!s:<{w}}") for c, w in widths.items()}
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        print(df.to_string(index=False, justify="left", formatters=formatters))
    return 0


def _cmd_get(args: argparse.Namespace) -> int:
    params = _parse_params(args.param)
    if args.csv:
        _check_writable(args.csv)
    with _client(_settings(args), timeout=args.timeout) as client:
        df = client.frame(
            args.path, params, record_path=args.record_path, max_pages=args.max_pages
        )
    if args.max_pages and df.attrs.get("pages") == args.max_pages:
        print(
            f"arso-data: note: stopped after {args.max_pages} page(s) (--max-pages); "
            "there may be more data.",
            file=sys.stderr,
        )
    if args.csv:
        from .export import to_csv_report

        path = to_csv_report(df, args.csv, dialect=args.dialect)
        print(f"{len(df)} rows written to {path}")
    else:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(df.to_string(max_rows=60))
    return 0


def _check_writable(path: Path) -> None:
    # Before a long pull, not after it.
    from .export import check_report_path

    try:
        check_report_path(path)
    except OSError as exc:
        raise ConfigError(f"--csv {path}: {exc.strerror}.") from None
    folder = path.parent
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"--csv {path}: the folder {folder} is not writable.")


def _parse_params(pairs: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"Parameter {pair!r} is not KEY=VALUE.")
        params[key.strip()] = value
    return params


def _cmd_sandbox(args: argparse.Namespace) -> int:
    # One implementation of "run until Ctrl-C or SIGTERM": the sandbox's own.
    from .sandbox.__main__ import main as run_sandbox

    if not is_loopback(args.host):
        raise ConfigError(
            f"--host {args.host}: the sandbox listens on loopback addresses only "
            "(127.0.0.1, ::1, localhost); its demo credentials are public."
        )
    argv = ["--host", args.host, "--port", str(args.port)]
    if args.token_lifetime:
        argv += ["--token-lifetime", str(args.token_lifetime)]
    if args.latency:
        argv += ["--latency", str(args.latency)]
    if args.quiet:
        argv.append("--quiet")
    return run_sandbox(argv)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import failed, format_report, run_checks

    checks = run_checks(_settings(args), timeout=args.timeout)
    print(format_report(checks))
    return 1 if failed(checks) else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .export import to_csv_report
    from .sandbox import Sandbox

    with Sandbox(port=0) as sb:
        settings = resolve_settings(env="sandbox", dotenv_path=False, environ={})
        settings = settings.with_sandbox(sb.url)
        with _client(settings, progress=None) as client:
            client.login()
            params = {"merilno_mesto": args.point, "od": DEMO_FROM, "do": DEMO_TO}
            df = client.frame("meritve", params)
    args.out.mkdir(parents=True, exist_ok=True)
    path = to_csv_report(df, args.out / f"arso-demo-{args.point}-{DEMO_FROM[:7]}.csv")
    print(_summary(df, path))
    return 0


def _summary(df: pd.DataFrame, path: Path) -> str:
    lines = [f"CSV report: {path.resolve()}", f"rows: {len(df)}"]
    if len(df) and "cas" in df:
        lines.append(f"time span: {df['cas'].min()} .. {df['cas'].max()}")
    if "parameter" in df:
        params = sorted(str(p) for p in df["parameter"].dropna().unique())
        lines.append(f"parameters ({len(params)}): {', '.join(params)}")
    if "veljavna" in df and len(df):
        invalid = float((df["veljavna"] == False).mean())  # noqa: E712
        lines.append(f"invalid values: {invalid:.1%}")
    if "vrednost" in df and len(df):
        lines.append(f"missing values: {float(df['vrednost'].isna().mean()):.1%}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``%arso`` and ``%%arso``: the telemetry API in a notebook, one line at a time.

Load with ``%load_ext arso``. Subcommands (``%arso SUBCOMMAND --help`` for each)::

    %arso login [--env test|prod|sandbox]      the login panel
    %arso logout
    %arso status                               environment, client ID, token expiry
    %arso get PATH [key=value ...] [-o NAME] [--all-pages | --max-pages N]
    %arso export NAME FILE.csv [--dialect sl|plain]
    %arso sandbox start|stop|status            a local sandbox inside the kernel
    %arso doctor                               what usually goes wrong, checked

    %%arso [-o NAME] [--max-pages N]
    meritve
    merilno_mesto = 0012
    od = 2024-10-01

IPython expands ``$var`` and ``{expr}`` in the line (and here in the cell
body too). The magics are a thin adapter over the session's
:class:`~arso_data.client.ArsoClient`: an :class:`~arso_data.errors.ArsoError`
becomes IPython's one-line ``UsageError``, which fails the cell, so that a
scheduled "Run All" stops there.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display
from IPython.utils.text import DollarFormatter

from ._session import SESSION
from .display import ClientStatus, env_label, result_html
from .errors import ArsoError
from .i18n import explain, message

#: Event names and the product's callbacks are recognised by this attribute,
#: so that loading twice or reloading never stacks a second one.
_HOOK_MARK = "arso_hook"


class _HelpShown(Exception):
    """argparse printed the help (``--help``); the magic returns quietly."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as UsageError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip())
        raise _HelpShown


@magics_class
class ArsoMagics(Magics):
    """The ``%arso`` line magic and ``%%arso`` cell magic."""

    @property
    def namespace(self) -> dict[str, Any]:
        """The notebook's variables."""
        assert self.shell is not None  # magics always live on a shell
        return self.shell.user_ns  # type: ignore[no-any-return]

    @line_cell_magic
    def arso(self, line: str, cell: str | None = None) -> Any:
        """ARSO telemetry API: ``%arso --help`` lists the subcommands."""
        try:
            if cell is None:
                return self._run_line(line)
            return self._run_cell(line, cell)
        except _HelpShown:
            return None
        except ArsoError as exc:
            raise UsageError(explain(exc)) from None
        except OSError as exc:  # a report path that cannot be written, say
            raise UsageError(f"%arso: {exc}") from None

    def _run_line(self, line: str) -> Any:
        argv = _split(line)
        if not argv or argv[0] in ("-h", "--help", "help"):
            _say(_overview())
            return None
        name, rest = argv[0], argv[1:]
        command = COMMANDS.get(name)
        if command is None:
            raise UsageError(
                message("unknown_subcommand", name=name, names=", ".join(COMMANDS))
            )
        return command(self, rest)

    def _run_cell(self, line: str, cell: str) -> Any:
        parser = _parser("%%arso", "help_get")
        _pull_options(parser)
        args = parser.parse_args(_split(line))
        # Expanded line by line: IPython's formatter treats the text as one
        # line and would drop the lines above a $var.
        lines = [
            _expand(text, self.namespace).strip()
            for text in cell.splitlines()
            if text.strip() and not text.strip().startswith("#")
        ]
        if not lines:
            raise UsageError(message("cell_needs_path"))
        params = _params(lines[1:], separators=("=", ":"))
        return self._pull(lines[0], params, args)

    def _pull(self, path: str, params: dict[str, str], args: Any) -> Any:
        client = SESSION.client()
        frame = client.frame(
            path, params, record_path=args.record_path, max_pages=args.max_pages
        )
        if args.output:
            self.namespace[args.output] = frame
        text = message("rows_from", rows=len(frame), path=path)
        display(  # type: ignore[no-untyped-call]
            {
                "text/html": result_html(client.env, text),
                "text/plain": f"[{env_label(client.env)}] {text}",
            },
            raw=True,
        )
        return frame


# -- subcommands ---------------------------------------------------------------


def _login(magics: ArsoMagics, argv: Sequence[str]) -> Any:
    parser = _parser("%arso login", "help_login")
    parser.add_argument(
        "--env", choices=("test", "prod", "sandbox"), help=message("help_env")
    )
    args = parser.parse_args(argv)
    from .widgets import login

    return login(args.env)


def _logout(magics: ArsoMagics, argv: Sequence[str]) -> None:
    _parser("%arso logout", "help_logout").parse_args(argv)
    if SESSION.has_client:
        SESSION.client().logout()
    _say(message("logged_out"))


def _status(magics: ArsoMagics, argv: Sequence[str]) -> ClientStatus:
    _parser("%arso status", "help_status").parse_args(argv)
    return ClientStatus(SESSION.client())


def _get(magics: ArsoMagics, argv: Sequence[str]) -> Any:
    parser = _parser("%arso get", "help_get")
    parser.add_argument("path", help=message("help_path"))
    parser.add_argument(
        "params", nargs="*", metavar="key=value", help=message("help_params")
    )
    _pull_options(parser)
    args = parser.parse_args(argv)
    return magics._pull(args.path, _params(args.params), args)


def _export(magics: ArsoMagics, argv: Sequence[str]) -> None:
    parser = _parser("%arso export", "help_export")
    parser.add_argument("name", help=message("help_export_name"))
    parser.add_argument("file", type=Path, help=message("help_export_file"))
    parser.add_argument(
        "--dialect", choices=("sl", "plain"), default="sl", help=message("help_dialect")
    )
    args = parser.parse_args(argv)
    frame = _frame_variable(magics, args.name)
    from .export import to_csv_report

    path = to_csv_report(frame, args.file, dialect=args.dialect)
    _say(message("exported", rows=len(frame), path=path))


def _sandbox(magics: ArsoMagics, argv: Sequence[str]) -> None:
    parser = _parser("%arso sandbox", "help_sandbox")
    parser.add_argument("action", choices=("start", "stop", "status"))
    args = parser.parse_args(argv)
    if args.action == "start":
        _start_sandbox()
    elif args.action == "stop":
        _stop_sandbox()
    elif SESSION.sandbox is not None:
        _say(message("sandbox_running", url=SESSION.sandbox.url))
    else:
        _say(message("sandbox_none"))


def _doctor(magics: ArsoMagics, argv: Sequence[str]) -> None:
    parser = _parser("%arso doctor", "help_doctor")
    parser.add_argument("--env", choices=("test", "prod", "sandbox", "custom"))
    args = parser.parse_args(argv)
    from .doctor import failed, format_report, run_checks

    if args.env is None and SESSION.has_client:
        settings = SESSION.client().settings
    else:
        settings = SESSION.settings(args.env)
    checks = run_checks(settings)
    _say(format_report(checks))
    bad = failed(checks)
    if bad:
        names = ", ".join(check.name for check in bad)
        raise UsageError(message("doctor_failed", count=len(bad), names=names))


def _endpoints(magics: ArsoMagics, argv: Sequence[str]) -> Any:
    parser = _parser("%arso endpoints", "help_endpoints")
    parser.add_argument("--location", help=message("help_location"))
    parser.add_argument("-o", "--output", metavar="NAME", help=message("help_output"))
    args = parser.parse_args(argv)
    from .discovery import list_endpoints

    frame = list_endpoints(SESSION.client(), args.location)
    if args.output:
        magics.namespace[args.output] = frame
    return frame


COMMANDS: dict[str, Callable[[ArsoMagics, Sequence[str]], Any]] = {
    "login": _login,
    "logout": _logout,
    "status": _status,
    "get": _get,
    "export": _export,
    "sandbox": _sandbox,
    "doctor": _doctor,
    "endpoints": _endpoints,
}


# -- helpers -------------------------------------------------------------------


def _start_sandbox() -> None:
    if SESSION.sandbox is None:
        from .client import ArsoClient
        from .sandbox import Sandbox

        SESSION.sandbox = Sandbox(port=0).start()
        SESSION.set_client(ArsoClient(SESSION.settings("sandbox")))
        client_id = SESSION.client().settings.client_id
        _say(message("sandbox_started", url=SESSION.sandbox.url, client_id=client_id))
    else:
        _say(message("sandbox_running", url=SESSION.sandbox.url))


def _stop_sandbox() -> None:
    sandbox, SESSION.sandbox = SESSION.sandbox, None
    if sandbox is None:
        _say(message("sandbox_none"))
        return
    if SESSION.has_client and SESSION.client().env == "sandbox":
        SESSION.set_client(None)
    sandbox.stop()
    _say(message("sandbox_stopped"))


def _parser(prog: str, help_key: str) -> _Parser:
    return _Parser(prog=prog, description=message(help_key), add_help=True)


def _pull_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="NAME", help=message("help_output"))
    pages = parser.add_mutually_exclusive_group()
    pages.add_argument(
        "--all-pages", action="store_true", help=message("help_all_pages")
    )
    pages.add_argument(
        "--max-pages", type=_positive, metavar="N", help=message("help_max_pages")
    )
    parser.add_argument("--record-path", help=message("help_record_path"))


def _say(text: str) -> None:
    # Short status lines go to the cell's output as plain text, through
    # IPython's display machinery, so that they are captured with the cell.
    display({"text/plain": text}, raw=True)  # type: ignore[no-untyped-call]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _overview() -> str:
    lines = [message("magic_help"), ""]
    keys = {
        "login": "help_login",
        "logout": "help_logout",
        "status": "help_status",
        "get": "help_get",
        "export": "help_export",
        "sandbox": "help_sandbox",
        "doctor": "help_doctor",
        "endpoints": "help_endpoints",
    }
    lines.extend(f"  {name:<8} {message(key)}" for name, key in keys.items())
    return "\n".join(lines)


def _split(line: str) -> list[str]:
    # `# ...` starts a comment, as everywhere else in a cell; quote a value
    # that contains a '#'.
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise UsageError(f"%arso: {exc}") from None


def _expand(text: str, namespace: dict[str, Any]) -> str:
    # IPython's own rule for line magics: expand $var and {expr} from the
    # user's namespace, and leave text that does not expand as it was.
    try:
        return str(DollarFormatter().vformat(text, args=[], kwargs=dict(namespace)))
    except Exception:
        return text


def _params(pairs: Sequence[str], separators: Sequence[str] = ("=",)) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        cuts = [pair.find(sep) for sep in separators if sep in pair]
        if not cuts or min(cuts) <= 0:
            raise UsageError(message("bad_param", pair=pair))
        cut = min(cuts)
        params[pair[:cut].strip()] = pair[cut + 1 :].strip()
    return params


def _frame_variable(magics: ArsoMagics, name: str) -> Any:
    import pandas as pd

    if name not in magics.namespace:
        raise UsageError(message("no_variable", name=name))
    value = magics.namespace[name]
    if not isinstance(value, pd.DataFrame):
        raise UsageError(message("not_a_frame", name=name, kind=type(value).__name__))
    return value


# -- the extension -------------------------------------------------------------


class _SecretGuard:
    """``pre_run_cell`` hook: warn when a cell holds the session's secret.

    A secret typed into a cell is saved with the notebook's source; the panel
    and ``.env`` exist so that it never has to be.
    """

    arso_hook = True

    def __call__(self, info: Any) -> None:
        if not SESSION.has_client:
            return
        client = SESSION.client()
        secret = client.settings.client_secret
        cell = getattr(info, "raw_cell", None) or ""
        # A very short secret would match ordinary text; real ones are long.
        revealed = secret.reveal() if secret else ""
        if len(revealed) >= 8 and client.env != "sandbox" and revealed in cell:
            sys.stderr.write(message("secret_in_cell") + "\n")


#: The events the extension hooks, with a factory for each callback.
_HOOKS: dict[str, Callable[[], Callable[[Any], None]]] = {
    "pre_run_cell": _SecretGuard,
}


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and the hooks; loading again changes nothing."""
    _remove_hooks(ipython)
    ipython.register_magics(ArsoMagics)
    for event, make in _HOOKS.items():
        ipython.events.register(event, make())


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and the hooks (a running sandbox keeps running)."""
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("arso", None)
    ipython.magics_manager.registry.pop(ArsoMagics.__name__, None)
    _remove_hooks(ipython)


def _remove_hooks(ipython: Any) -> None:
    for event, callbacks in ipython.events.callbacks.items():
        for callback in list(callbacks):
            if getattr(callback, _HOOK_MARK, False):
                ipython.events.unregister(event, callback)


__all__ = [
    "COMMANDS",
    "ArsoMagics",
    "load_ipython_extension",
    "unload_ipython_extension",
]

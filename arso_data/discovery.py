"""What the API offers, read from its OpenAPI description.

ARSO's token document does not describe the telemetry API's paths. When the
API publishes an OpenAPI (or Swagger 2) description, :func:`list_endpoints`
fetches it through the client (one request per location tried, with the
usual Bearer token) and lists its operations as a DataFrame, so that an
analyst can find what to pull without leaving the notebook.

Without an explicit location, the common ones are tried in order, relative
to the API base URL: see :data:`LOCATIONS`. ``openapi.yaml`` is tried only
when PyYAML is installed.

>>> from arso_data import ArsoClient                              # doctest: +SKIP
>>> from arso_data.discovery import list_endpoints               # doctest: +SKIP
>>> list_endpoints(ArsoClient(env="sandbox"))                    # doctest: +SKIP
  method           path                    summary            parameters
0    GET  /merilna-mesta  Measuring points ...  page, size
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._redact import mask_url
from .errors import ApiDescriptionError, NotFoundError, ResponseError

if TYPE_CHECKING:
    import pandas as pd

    from .client import ArsoClient

logger = logging.getLogger(__name__)

#: Where APIs commonly publish their description, relative to the API base.
LOCATIONS: Final = ("openapi.json", "v3/api-docs", "swagger.json", "openapi.yaml")
#: The columns of :func:`list_endpoints`, in order.
COLUMNS: Final = ("method", "path", "summary", "parameters")
#: HTTP methods an OpenAPI path item may hold, in display order.
METHODS: Final = ("get", "post", "put", "patch", "delete", "head", "options", "trace")


def list_endpoints(client: ArsoClient, location: str | None = None) -> pd.DataFrame:
    """List the API's operations from its OpenAPI description.

    Parameters
    ----------
    client
        The connection; the description is fetched through it.
    location
        Where the description is: a path relative to the API base URL or an
        absolute URL on the API's host. None tries :data:`LOCATIONS` in order.

    Returns
    -------
    pandas.DataFrame
        One row per operation, columns ``method`` (upper case), ``path``,
        ``summary`` (else the description's first line, else the operation
        ID) and ``parameters`` (names, comma-separated, path-level ones
        included). ``.attrs`` holds the description's ``title``, ``version``
        and the ``url`` it came from.

    Raises
    ------
    ApiDescriptionError
        No location answered with an OpenAPI description; the message lists
        what each location answered.
    """
    url, description = fetch_description(client, location)
    df = operations_frame(description)
    df.attrs["url"] = url
    return df


def fetch_description(
    client: ArsoClient, location: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Fetch the API's OpenAPI description; return its URL and the document.

    Locations that answer 404, or with something that is not an OpenAPI
    description, are passed over; any other failure (no connection, a refused
    token, a server error) is raised as it is.
    """
    locations = (location,) if location else _default_locations()
    tried: list[str] = []
    for where in locations:
        url = _absolute(client, where)
        try:
            document = _fetch(client, where)
        except (NotFoundError, ResponseError) as exc:
            tried.append(f"{where} ({_short(exc)})")
            continue
        if _is_description(document):
            logger.info("OpenAPI description found at %s", mask_url(url))
            return url, document
        tried.append(f"{where} (not an OpenAPI description)")
    raise _not_found(client, location, tried)


def operations_frame(description: Mapping[str, Any]) -> pd.DataFrame:
    """The operations of an OpenAPI 3 or Swagger 2 document, one per row.

    A pure function: no HTTP. A description with no paths gives an empty
    frame with the four columns. ``$ref`` parameters are resolved within the
    document.
    """
    import pandas as pd

    rows = list(_operations(description))
    df = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
    info = description.get("info")
    info = info if isinstance(info, Mapping) else {}
    df.attrs.update(
        {
            "title": str(info.get("title") or ""),
            "version": str(info.get("version") or ""),
            "openapi": str(
                description.get("openapi") or description.get("swagger") or ""
            ),
        }
    )
    return df


def _absolute(client: ArsoClient, where: str) -> str:
    if where.startswith(("http://", "https://")):
        return where
    return client.settings.require_api_url().rstrip("/") + "/" + where.lstrip("/")


def _default_locations() -> tuple[str, ...]:
    try:
        import yaml  # noqa: F401
    except ImportError:
        logger.debug("PyYAML is not installed; openapi.yaml is not tried")
        return tuple(loc for loc in LOCATIONS if not loc.endswith((".yaml", ".yml")))
    return LOCATIONS


def _fetch(client: ArsoClient, where: str) -> Any:
    if not where.split("?")[0].endswith((".yaml", ".yml")):
        return client.get_json(where)
    try:
        import yaml
    except ImportError as exc:
        raise ApiDescriptionError(
            f"{where} is YAML, and reading it needs PyYAML: pip install pyyaml"
        ) from exc
    text = client.get_text(where, accept="application/yaml, text/yaml, */*")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ResponseError(
            f"{where} is not readable YAML ({type(exc).__name__}).",
            body_start=text[:300],
        ) from exc


def _is_description(document: Any) -> bool:
    return (
        isinstance(document, Mapping)
        and bool(document.get("openapi") or document.get("swagger"))
        and isinstance(document.get("paths", {}), Mapping)
    )


def _not_found(
    client: ArsoClient, location: str | None, tried: list[str]
) -> ApiDescriptionError:
    base = mask_url(client.settings.require_api_url())
    if location:
        advice = "Check the location, or leave it out to try the common ones."
    else:
        advice = (
            "The API may publish none; if it has one elsewhere, pass its "
            "location (Python: location=..., CLI: --location)."
        )
    return ApiDescriptionError(
        f"No OpenAPI description found for the API at {base}. Tried: "
        f"{'; '.join(tried)}. {advice}",
        url=base,
        tried=tuple(tried),
    )


def _short(exc: NotFoundError | ResponseError) -> str:
    if isinstance(exc, NotFoundError):
        return f"HTTP {exc.status}"
    return "not JSON" if exc.status == 200 else f"HTTP {exc.status}, unreadable"


def _operations(description: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    paths = description.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        item = _resolve(description, item)
        shared = _parameters(description, item.get("parameters"))
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            own = _parameters(description, operation.get("parameters"))
            names = list(dict.fromkeys([*shared, *own]))
            yield {
                "method": method.upper(),
                "path": str(path),
                "summary": _summary(operation),
                "parameters": ", ".join(names),
            }


def _parameters(description: Mapping[str, Any], raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    names = []
    for parameter in raw:
        resolved = _resolve(description, parameter)
        if resolved.get("name"):
            names.append(str(resolved["name"]))
    return names


def _resolve(description: Mapping[str, Any], node: Any) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``), a few levels at most."""
    for _ in range(8):
        if not isinstance(node, Mapping):
            return {}
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return node
        target: Any = description
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, Mapping) else None
        node = target
    return {}


def _summary(operation: Mapping[str, Any]) -> str:
    summary = operation.get("summary")
    if summary:
        return str(summary).strip()
    description = str(operation.get("description") or "").strip()
    if description:
        return description.splitlines()[0]
    return str(operation.get("operationId") or "")


__all__ = [
    "COLUMNS",
    "LOCATIONS",
    "fetch_description",
    "list_endpoints",
    "operations_frame",
]

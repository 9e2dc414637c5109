"""ArsoClient: every HTTP call to the telemetry API goes through one method.

``_send`` owns the base URL, the Bearer token, timeouts, retries, the mapping
of statuses to errors and the log line; the verbs above it (JSON, pages,
DataFrames, POST) only say what to ask for.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from ._redact import mask_url
from ._version import __version__
from .auth import AuthMethod, Timeout, Token, TokenProvider, transport_error
from .cache import CacheSetting, cache_config, cached_session
from .cache import clear as clear_cache
from .errors import (
    ApiError,
    ArsoError,
    AuthError,
    ConfigError,
    NotFoundError,
    PagingError,
    PermissionDeniedError,
    RateLimitError,
    ResponseError,
    ServerError,
)
from .paging import PageInfo, read_page_info
from .retry import RetryPolicy, parse_retry_after
from .settings import Settings, resolve_settings

if TYPE_CHECKING:
    import pandas as pd

    from .upload import UploadResult

logger = logging.getLogger(__name__)

USER_AGENT = f"arso-data/{__version__} (+python-requests/{requests.__version__})"
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
#: Pages in flight at once by default. Paging waits on the network, so the
#: speed-up grows with the workers up to about this many; more would lean on
#: the API for little gain (benchmarks/run.py measures it).
DEFAULT_WORKERS = 8
Params = Mapping[str, Any] | None


@dataclass
class Page:
    """One answer of a paged pull: its records and its next-page signal."""

    url: str
    payload: Any
    records: list[Any]
    info: PageInfo
    index: int = 0
    #: True when the caller's record path named the wrapper around the records
    #: (used up here) rather than a list inside each record.
    used_record_path: bool = False


@dataclass
class _PullState:
    pages: int = 0
    rows: int = 0
    seen_urls: set[str] = field(default_factory=set)


class ArsoClient:
    """A connection to ARSO's telemetry API (or the local sandbox).

    Parameters
    ----------
    settings
        Resolved settings; when omitted they are resolved from the keyword
        arguments, the environment and a ``.env`` file
        (see :func:`arso_data.settings.resolve_settings`).
    timeout
        Connect and read limits in seconds for every request.
    retry
        The retry policy for idempotent calls.
    workers
        Pages fetched at once when the API tells how many there are
        (default 8; 1 fetches strictly one after another).
    progress
        Show a progress bar on pulls of several pages: True, False, or None
        for "when someone is watching" (a terminal or a notebook).
    auth_method
        How the client authenticates at the token endpoint: the form body
        (default, as ARSO documents) or HTTP Basic.
    cache
        Cache API answers on disk so that a re-run does not download them
        again: True (the user's cache folder), a folder, or a
        :class:`~arso_data.cache.CacheConfig`; off by default. See
        :mod:`arso_data.cache` for what is and is never cached.

    Examples
    --------
    >>> client = ArsoClient(env="sandbox")                     # doctest: +SKIP
    >>> df = client.frame("meritve", {"merilno_mesto": "0012"})  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        env: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_url: str | None = None,
        api_url: str | None = None,
        dotenv_path: Any = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        workers: int = DEFAULT_WORKERS,
        progress: bool | None = None,
        auth_method: AuthMethod = "client_secret_post",
        clock: Callable[[], float] | None = None,
        cache: CacheSetting = None,
    ) -> None:
        if settings is None:
            settings = resolve_settings(
                env=env,
                client_id=client_id,
                client_secret=client_secret,
                auth_url=auth_url,
                api_url=api_url,
                dotenv_path=dotenv_path,
            )
        if workers < 1:
            raise ConfigError("workers must be at least 1.")
        self.settings = settings
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.workers = workers
        self.progress = progress
        self._tokens = TokenProvider(
            settings, timeout=timeout, auth_method=auth_method, clock=clock
        )
        self._cache = cache_config(cache)
        self._http = self._make_session()

    def _make_session(self) -> requests.Session:
        session = (
            requests.Session()
            if self._cache is None
            else cached_session(self._cache, self.settings)
        )
        adapter = HTTPAdapter(
            max_retries=self.retry.to_urllib3(),
            pool_maxsize=max(10, 2 * self.workers),
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        session.headers["Accept"] = "application/json"
        session.verify = self.settings.verify
        if self.settings.proxies:
            session.proxies.update(self.settings.proxies)
        return session

    # -- state ---------------------------------------------------------------

    @property
    def env(self) -> str:
        """The environment: ``test``, ``prod``, ``sandbox`` or ``custom``."""
        return self.settings.env

    @property
    def api_url(self) -> str | None:
        """The API base URL, if configured."""
        return self.settings.api_url

    @property
    def token(self) -> Token | None:
        """The current token (its repr hides the token itself)."""
        return self._tokens.token

    @property
    def token_requests(self) -> int:
        """How many token requests this client has made."""
        return self._tokens.fetch_count

    def login(self) -> Token:
        """Fetch a token now; raises :class:`~arso_data.errors.AuthError` if refused."""
        return self._tokens.login()

    def logout(self) -> None:
        """Forget the token; data calls fail until the next :meth:`login`."""
        self._tokens.logout()

    def status(self) -> dict[str, Any]:
        """What this client is connected to, without secrets."""
        token = self._tokens.token
        return {
            "env": self.env,
            "client_id": self.settings.client_id,
            "auth_url": self.settings.auth_url,
            "api_url": self.settings.api_url,
            "token": "valid" if self._tokens.is_valid() else "none",
            "expires": token.expires.astimezone().isoformat(timespec="seconds")
            if token
            else None,
        }

    def __repr__(self) -> str:
        state = self.status()
        token = (
            f"valid until {state['expires']}" if state["token"] == "valid" else "none"
        )
        return (
            f"ArsoClient(env={self.env!r}, client_id={self.settings.client_id!r}, "
            f"api_url={self.api_url!r}, token={token!r})"
        )

    def _repr_html_(self) -> str:
        """The notebook view: environment badge, client ID, token, API URL."""
        from .display import client_html

        return client_html(self)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def clear_cache(self) -> None:
        """Forget every cached answer (see the ``cache`` argument)."""
        clear_cache(self._http)

    def __enter__(self) -> ArsoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- verbs ---------------------------------------------------------------

    def get_json(self, path: str, params: Params = None) -> Any:
        """GET one answer and return its JSON (no paging)."""
        response = self._send("GET", path, params=params)
        return self.decode(response)

    def get_text(self, path: str, params: Params = None, *, accept: str = "*/*") -> str:
        """GET one answer and return its body as text (a YAML document, say)."""
        response = self._send("GET", path, params=params, headers={"Accept": accept})
        declared = "charset=" in response.headers.get("Content-Type", "").lower()
        # Without a declared charset requests would guess Latin-1 for text/*.
        encoding = (response.encoding if declared else None) or "utf-8-sig"
        return response.content.decode(encoding, errors="replace")

    def post_json(
        self,
        path: str,
        payload: Any,
        *,
        idempotency_key: str | None = None,
    ) -> Any:
        """POST JSON and return the answer's JSON.

        A POST is not retried on errors (it may have been processed); pass an
        ``idempotency_key`` (one is made if omitted) so that the API can
        recognise a repeat that the caller makes on purpose.
        """
        response = self.post(path, payload, idempotency_key=idempotency_key)
        return self.decode(response) if response.content else None

    def post(
        self,
        path: str,
        payload: Any,
        *,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        """POST JSON and return the HTTP response itself (errors raise).

        For callers that need the answer's headers, such as
        ``Idempotent-Replayed``; :meth:`post_json` is the usual way.
        """
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        return self._send("POST", path, json=payload, headers=headers)

    def send_frame(
        self,
        df: pd.DataFrame,
        path: str,
        *,
        batch_size: int = 500,
        key: Sequence[str] | None = None,
    ) -> UploadResult:
        """POST the rows of ``df`` in batches, each batch once.

        See :func:`arso_data.upload.send_frame`. Raises
        :class:`~arso_data.errors.UploadError` at the first failed batch; its
        ``result.remaining`` can be sent again without storing a row twice.
        """
        from .upload import send_frame

        return send_frame(self, df, path, batch_size=batch_size, key=key)

    def pages(
        self,
        path: str,
        params: Params = None,
        *,
        record_path: str | Sequence[str] | None = None,
        max_pages: int | None = None,
    ) -> Iterator[Page]:
        """Yield every page of a paged pull, in order, each row exactly once.

        Raises
        ------
        PagingError
            A page failed after retries, the data changed during the pull, or
            the rows do not add up to the total the server declared. Nothing
            partial is returned silently; the error tells how far it got.
        """
        state = _PullState()
        first = self._fetch_page(self._url(path), dict(params or {}), record_path)
        try:
            yield from self._walk(first, state, path, params, record_path, max_pages)
        except PagingError:
            raise
        except ArsoError as exc:
            raise PagingError(
                f"The pull of {mask_url(self._url(path))} stopped after "
                f"{state.pages} page(s) and {state.rows} row(s): {exc}",
                pages_fetched=state.pages,
                rows_fetched=state.rows,
                status=exc.status,
                method=exc.method,
                url=exc.url,
            ) from exc

    def records(
        self,
        path: str,
        params: Params = None,
        *,
        record_path: str | Sequence[str] | None = None,
        max_pages: int | None = None,
    ) -> list[Any]:
        """All records of a (possibly paged) pull, as a list."""
        out: list[Any] = []
        for page in self.pages(
            path, params, record_path=record_path, max_pages=max_pages
        ):
            out.extend(page.records)
        return out

    def frame(
        self,
        path: str,
        params: Params = None,
        *,
        record_path: str | Sequence[str] | None = None,
        meta: Sequence[str] | None = None,
        schema: Mapping[str, str] | None = None,
        max_pages: int | None = None,
    ) -> pd.DataFrame:
        """Pull every page of ``path`` into one typed DataFrame.

        ``record_path`` names where the records are when the wrapper is not
        obvious, or (with ``meta``) a list inside each record to expand into
        rows. ``schema`` forces column kinds (``"str"``, ``"float"``,
        ``"datetime"``...) and gives an empty result its columns.
        ``.attrs`` records the environment, URL, parameters and fetch time.
        """
        from .frames import to_frame

        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        child_path = record_path
        rows: list[Any] = []
        pages = 0
        for page in self.pages(
            path, params, record_path=record_path, max_pages=max_pages
        ):
            rows.extend(page.records)
            pages += 1
            if page.used_record_path:
                child_path = None
        attrs = {
            "env": self.env,
            "url": mask_url(self._url(path)),
            "params": dict(params or {}),
            "fetched_at": fetched_at,
            "pages": pages,
        }
        return to_frame(
            rows, record_path=child_path, meta=meta, schema=schema, attrs=attrs
        )

    # -- paging --------------------------------------------------------------

    def _walk(
        self,
        first: Page,
        state: _PullState,
        path: str,
        params: Params,
        record_path: str | Sequence[str] | None,
        max_pages: int | None,
    ) -> Iterator[Page]:
        self._count(first, state)
        yield first
        info = first.info
        if info.style == "spring" and info.next_page is not None:
            yield from self._spring_rest(
                first, state, path, params, record_path, max_pages
            )
        elif info.next_url:
            yield from self._follow_links(first, state, record_path, max_pages)

    def _count(self, page: Page, state: _PullState) -> None:
        state.pages += 1
        state.rows += len(page.records)
        state.seen_urls.add(page.url)

    def _spring_rest(
        self,
        first: Page,
        state: _PullState,
        path: str,
        params: Params,
        record_path: str | Sequence[str] | None,
        max_pages: int | None,
    ) -> Iterator[Page]:
        info = first.info
        assert info.number is not None
        assert info.total_pages is not None
        last = (
            info.total_pages
            if max_pages is None
            else min(info.total_pages, info.number + max_pages)
        )
        numbers = range(info.number + 1, last)
        url = self._url(path)
        base = dict(params or {})

        def fetch(n: int) -> Page:
            return self._fetch_page(url, {**base, "page": n}, record_path, index=n)

        with self._progress(total=last - info.number, initial=1) as bar:
            for page in self._ordered(fetch, numbers):
                self._check_spring_page(page, first, state)
                self._count(page, state)
                bar.update(1)
                yield page
        complete = max_pages is None or last == info.total_pages
        if complete and info.total_elements is not None:
            if state.rows != info.total_elements:
                raise PagingError(
                    f"The server declared {info.total_elements} rows but "
                    f"{state.rows} arrived in {state.pages} pages; the data may "
                    "have changed during the pull. Run it again.",
                    pages_fetched=state.pages,
                    rows_fetched=state.rows,
                )

    def _ordered(self, fetch: Callable[[int], Page], numbers: range) -> Iterator[Page]:
        """Fetch pages with up to ``workers`` in flight, yielding them in order."""
        if self.workers == 1 or len(numbers) <= 1:
            for n in numbers:
                yield fetch(n)
            return
        window = 2 * self.workers
        with ThreadPoolExecutor(self.workers, thread_name_prefix="arso-page") as pool:
            pending: deque[Future[Page]] = deque()
            todo = iter(numbers)
            try:
                for n in todo:
                    pending.append(pool.submit(fetch, n))
                    if len(pending) >= window:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    def _check_spring_page(self, page: Page, first: Page, state: _PullState) -> None:
        declared = first.info.total_elements
        now = page.info.total_elements
        if declared is not None and now is not None and now != declared:
            raise PagingError(
                f"The data changed during the pull: the server declared "
                f"{declared} rows on the first page and {now} on page "
                f"{page.index}. Run the pull again.",
                pages_fetched=state.pages,
                rows_fetched=state.rows,
                url=page.url,
            )
        if page.info.number is not None and page.info.number != page.index:
            raise PagingError(
                f"Asked for page {page.index} but the server answered page "
                f"{page.info.number}.",
                pages_fetched=state.pages,
                rows_fetched=state.rows,
                url=page.url,
            )

    def _follow_links(
        self,
        first: Page,
        state: _PullState,
        record_path: str | Sequence[str] | None,
        max_pages: int | None,
    ) -> Iterator[Page]:
        page = first
        with self._progress(total=None, initial=1) as bar:
            while page.info.next_url and page.records:
                if max_pages is not None and state.pages >= max_pages:
                    return
                url = self._same_host(urljoin(page.url, page.info.next_url))
                if url in state.seen_urls:
                    logger.warning(
                        "The next-page link repeats a page already fetched (%s); "
                        "stopping there so that no row is counted twice.",
                        mask_url(url),
                    )
                    return
                page = self._fetch_page(url, None, record_path, index=state.pages)
                self._count(page, state)
                bar.update(1)
                if page.records:
                    yield page

    def _fetch_page(
        self,
        url: str,
        params: dict[str, Any] | None,
        record_path: str | Sequence[str] | None,
        *,
        index: int = 0,
    ) -> Page:
        response = self._send("GET", url, params=params)
        payload = self.decode(response)
        wrapper = record_path is not None and _is_wrapper_path(payload, record_path)
        records = _page_records(payload, record_path if wrapper else None)
        return Page(
            url=response.url,
            payload=payload,
            records=records,
            info=read_page_info(payload, response.links),
            index=index,
            used_record_path=wrapper,
        )

    def _progress(self, *, total: int | None, initial: int) -> Any:
        show = self.progress
        if show is None:
            show = (total or 0) > 2 and (
                sys.stderr.isatty() or "ipykernel" in sys.modules
            )
        if not show:
            return _NoProgress()
        from tqdm.auto import tqdm

        return tqdm(total=total, initial=initial, unit="page", desc="arso", leave=False)

    # -- the one HTTP path ---------------------------------------------------

    def _url(self, path: str) -> str:
        base = self.settings.require_api_url()
        if path.startswith(("http://", "https://")):
            return self._same_host(path)
        return base.rstrip("/") + "/" + path.lstrip("/")

    def _same_host(self, url: str) -> str:
        api = urlsplit(self.settings.require_api_url())
        target = urlsplit(url)
        if (target.scheme, target.netloc) != (api.scheme, api.netloc):
            raise ApiError(
                f"Refusing to send the token to {target.scheme}://{target.netloc}: "
                f"it is not the configured API host {api.scheme}://{api.netloc}. "
                "A next-page link or path pointed elsewhere.",
                url=mask_url(url),
            )
        return url

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = self._url(path)
        token = self._tokens.access_token()
        response = self._exchange(method, url, token, params, json, headers)
        if response.status_code == 401:
            # One new token and one repeat: the token may have been revoked or
            # expired early on the server's side.
            self._tokens.invalidate(token)
            token = self._tokens.access_token()
            response = self._exchange(method, url, token, params, json, headers)
        if response.status_code >= 400:
            raise self._status_error(method, response)
        return response

    def _exchange(
        self,
        method: str,
        url: str,
        token: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        started = time.perf_counter()
        try:
            response = self._http.request(
                method,
                url,
                params=params,
                json=json,
                headers=all_headers,
                timeout=self.timeout,
                # Per request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
                # from the environment override a session's verify
                # (psf/requests#3829), which would ignore ARSO_CA_BUNDLE.
                verify=self._http.verify,
            )
        except requests.exceptions.RetryError as exc:
            raise ServerError(
                f"{method} {mask_url(url)} kept failing after "
                f"{self.retry.attempts} attempts.",
                method=method,
                url=mask_url(url),
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise transport_error(exc, method, url, self.timeout) from None
        logger.info(
            "%s %s -> %s (%.2f s, %d bytes)",
            method,
            mask_url(response.url),
            response.status_code,
            time.perf_counter() - started,
            len(response.content),
        )
        return response

    def _status_error(self, method: str, response: requests.Response) -> ArsoError:
        status = response.status_code
        url = mask_url(response.url)
        excerpt = " ".join(response.content[:1200].decode("utf-8", "replace").split())[
            :300
        ]
        context: dict[str, Any] = {
            "status": status,
            "method": method,
            "url": url,
            "body_start": excerpt,
        }
        where = f"{method} {url} -> HTTP {status}"
        if status == 401:
            return AuthError(
                f"{where}: the API refused a freshly fetched token too. The "
                "credentials may lack access to this API; check the client's "
                "roles in IS Monitoring.",
                **context,
            )
        if status == 403:
            return PermissionDeniedError(
                f"{where}: permission denied. The credentials are valid but may "
                "not do this; in IS Monitoring the organisation's API client needs "
                "the role MON_TELEMETRIJA and access to this data.",
                **context,
            )
        if status == 404:
            return NotFoundError(f"{where}: no such path or object.", **context)
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            asked = f"; the server asked to wait {wait:g} s" if wait is not None else ""
            return RateLimitError(
                f"{where}: too many requests{asked}. Wait and try again, or "
                "fetch less at once (fewer workers).",
                retry_after=wait,
                **context,
            )
        if status >= 500:
            tries = _tries(response)
            return ServerError(
                f"{where} after {tries} attempt{'s' if tries > 1 else ''}: the API "
                "failed. Try again later.",
                **context,
            )
        return ApiError(f"{where}: {excerpt}", **context)

    def decode(self, response: requests.Response) -> Any:
        """The JSON of an answer, or a ResponseError that says what is wrong."""
        from .frames import decode_json

        content_type = response.headers.get("Content-Type")
        if content_type and "json" not in content_type.lower():
            # Read as JSON anyway: decode_json tells JSON from an HTML page by
            # the body, and a proxy that mislabels JSON is not the user's to fix.
            logger.debug(
                "%s declares %s; reading the body as JSON",
                mask_url(response.url),
                content_type,
            )
        try:
            return decode_json(
                response.content, content_type=response.headers.get("Content-Type")
            )
        except ResponseError as exc:
            exc.status = response.status_code
            exc.method = response.request.method if response.request else None
            exc.url = mask_url(response.url)
            raise


def _tries(response: requests.Response) -> int:
    """How many times urllib3 sent the request that gave ``response``."""
    retries = getattr(response.raw, "retries", None)
    history = getattr(retries, "history", None) or ()
    return 1 + sum(1 for entry in history if entry.redirect_location is None)


def _page_records(payload: Any, record_path: str | Sequence[str] | None) -> list[Any]:
    from .frames import find_records

    return find_records(payload, record_path)


def _is_wrapper_path(payload: Any, record_path: str | Sequence[str]) -> bool:
    # A record path that is a key of the answer names the wrapper around the
    # records; otherwise it names a list inside each record, which to_frame
    # expands into rows.
    first = (
        record_path.split(".")[0] if isinstance(record_path, str) else record_path[0]
    )
    return isinstance(payload, dict) and first in payload


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


__all__ = ["ArsoClient", "Page"]

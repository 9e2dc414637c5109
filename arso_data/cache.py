"""Optional HTTP caching of API answers, so that a re-run does not re-download.

Off by default. ``ArsoClient(cache=True)`` keeps answers in a SQLite file in
the user's cache folder (``$ARSO_CACHE_DIR``, else ``$XDG_CACHE_HOME/arso-data``,
else ``~/.cache/arso-data``) for :data:`DEFAULT_EXPIRE` seconds; a path or a
:class:`CacheConfig` chooses the folder and the expiry. Needs requests-cache
(``pip install 'arso-data[cache]'``).

What is cached, and what never is:

- only ``GET`` answers with status 200; errors are asked again every time;
- never the token endpoint: tokens are fetched by the
  :class:`~arso_data.auth.TokenProvider` through its own, uncached session;
- the ``Authorization`` header is left out of the cache key (a renewed token
  still finds the answer) and out of what is stored (the file holds data, not
  secrets). So that one client's answers are never served to another, each
  client ID and API base URL has its own file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .errors import ConfigError

if TYPE_CHECKING:
    import requests

    from .settings import Settings

#: How long an answer is reused, in seconds (one day).
DEFAULT_EXPIRE: Final = 24 * 3600


@dataclass(frozen=True)
class CacheConfig:
    """Where answers are cached and for how long.

    Parameters
    ----------
    folder
        The folder of the cache files; by default the user's cache folder.
    expire_after
        Seconds (or a ``timedelta``) an answer is reused; ``-1`` never expires.
    """

    folder: str | os.PathLike[str] | None = None
    expire_after: float | timedelta = DEFAULT_EXPIRE


CacheSetting = bool | str | os.PathLike[str] | CacheConfig | None


def cache_config(setting: CacheSetting) -> CacheConfig | None:
    """The :class:`CacheConfig` for the client's ``cache`` argument (None: off)."""
    if setting is None or setting is False:
        return None
    if setting is True:
        return CacheConfig()
    if isinstance(setting, CacheConfig):
        return setting
    return CacheConfig(folder=Path(setting))


def default_folder() -> Path:
    """The user's cache folder for arso-data."""
    explicit = os.environ.get("ARSO_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "arso-data"


def cache_file(config: CacheConfig, settings: Settings) -> Path:
    """The SQLite file for one client ID and API base URL."""
    owner = f"{settings.client_id or ''}\n{settings.api_url or ''}"
    digest = hashlib.sha256(owner.encode()).hexdigest()[:16]
    return Path(config.folder or default_folder()) / f"http-{digest}.sqlite"


def cached_session(config: CacheConfig, settings: Settings) -> requests.Session:
    """A requests session that caches 200 answers to GET as described above."""
    try:
        import requests_cache
    except ImportError:
        raise ConfigError(
            "HTTP caching needs requests-cache: pip install 'arso-data[cache]'"
        ) from None

    path = cache_file(config, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    session: requests.Session = requests_cache.CachedSession(
        str(path),
        backend="sqlite",
        expire_after=config.expire_after,
        allowable_codes=(200,),
        allowable_methods=("GET",),
        # Left out of the key and redacted from the stored request.
        ignored_parameters=["Authorization"],
        match_headers=False,
        stale_if_error=False,
    )
    return session


def clear(session: requests.Session) -> None:
    """Remove every cached answer of ``session`` (nothing if it does not cache)."""
    cache = getattr(session, "cache", None)
    if cache is not None:
        cache.clear()


__all__ = ["DEFAULT_EXPIRE", "CacheConfig", "cache_config", "cache_file"]

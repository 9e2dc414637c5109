"""Next-page signals of paged JSON APIs.

Three shapes are understood, checked in this order:

1. a Spring ``Page`` object: ``{"content": [...], "number": 0, "totalPages": 5,
   "totalElements": 4711, ...}``; the next page is ``page=number+1``, and since
   the number of pages is known, the rest can be fetched concurrently;
2. an RFC 8288 ``Link: <url>; rel="next"`` header;
3. a next link in the body: ``links.next``, ``next``, ``_links.next.href``,
   ``@odata.nextLink`` (null or absent on the last page).

A page that is not one of these is the only page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Keys of a Spring page object that identify it.
_SPRING_KEYS = ("content", "totalPages", "number")


@dataclass(frozen=True)
class PageInfo:
    """What one answer says about its place in a paged result."""

    style: str  # "spring", "link-header", "body-link" or "single"
    next_url: str | None = None
    next_page: int | None = None
    number: int | None = None
    total_pages: int | None = None
    total_elements: int | None = None
    size: int | None = None


def read_page_info(
    payload: Any, links: Mapping[str, Mapping[str, str]] | None = None
) -> PageInfo:
    """Read the next-page signal of one answer.

    ``links`` is requests' parsed ``Link`` header (``response.links``).
    """
    if isinstance(payload, dict) and all(k in payload for k in _SPRING_KEYS):
        return _spring(payload)
    if links and links.get("next", {}).get("url"):
        return PageInfo("link-header", next_url=links["next"]["url"])
    body_link = _body_next_link(payload)
    if body_link is not _ABSENT:
        return PageInfo("body-link", next_url=body_link or None)
    return PageInfo("single")


def _spring(payload: Mapping[str, Any]) -> PageInfo:
    number = _int(payload.get("number"))
    total_pages = _int(payload.get("totalPages"))
    last = payload.get("last")
    has_next = (
        number is not None
        and total_pages is not None
        and number + 1 < total_pages
        and last is not True
    )
    return PageInfo(
        "spring",
        next_page=(number + 1) if has_next and number is not None else None,
        number=number,
        total_pages=total_pages,
        total_elements=_int(payload.get("totalElements")),
        size=_int(payload.get("size")),
    )


_ABSENT: Any = object()


def _body_next_link(payload: Any) -> Any:
    """The body's next link: a URL, None/"" (last page), or _ABSENT (no signal)."""
    if not isinstance(payload, dict):
        return _ABSENT
    links = payload.get("links")
    if isinstance(links, dict) and "next" in links:
        return _href(links["next"])
    hal = payload.get("_links")
    if isinstance(hal, dict) and "next" in hal:
        return _href(hal["next"])
    for key in ("next", "@odata.nextLink", "nextLink", "next_page_url"):
        if key in payload and (payload[key] is None or isinstance(payload[key], str)):
            return payload[key]
    if isinstance(links, dict) or isinstance(hal, dict):
        return None
    return _ABSENT


def _href(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("href")
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


__all__ = ["PageInfo", "read_page_info"]

"""A local emulation of ARSO's identity server and an example telemetry API.

Not ARSO's real API. The identity server behaves as ARSO's Keycloak (realm
``arso``) does according to ARSO's source document: same token path, form
fields, status codes and JSON fields, RS256 JWTs that expire. The telemetry
API is an invented example (ARSO's document does not describe one) with
paging, realistic data and fault switches for tests.

>>> from arso_data.sandbox import Sandbox
>>> with Sandbox(port=0) as sb:  # doctest: +SKIP
...     print(sb.token_url)

It imports nothing of ``arso_data`` except :mod:`arso_data.constants`.
"""

from __future__ import annotations

from arso_data.sandbox.app import create_app
from arso_data.sandbox.faults import Faults, RecordedRequest, RequestLog, Stats
from arso_data.sandbox.server import Sandbox

__all__ = ["Faults", "RecordedRequest", "RequestLog", "Sandbox", "Stats", "create_app"]

"""The message catalogue: both languages everywhere, chosen by ARSO_LANG or locale."""

from __future__ import annotations

import string

import pytest

from arso_data import errors
from arso_data.i18n import LANGUAGES, MESSAGES, current_language, explain, message


def test_every_message_exists_in_both_languages_with_the_same_fields() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        fields = [
            {name for _, name, _, _ in string.Formatter().parse(texts[lang]) if name}
            for lang in LANGUAGES
        ]
        if key.startswith("err_"):
            continue  # the English readings keep the error's own message
        assert fields[0] == fields[1], key


@pytest.mark.parametrize(
    ("arso_lang", "lang", "expected"),
    [
        ("sl", None, "sl"),
        ("en", "sl_SI.UTF-8", "en"),
        (None, "sl_SI.UTF-8", "sl"),
        (None, "de_DE.UTF-8", "en"),
        (None, None, "en"),
    ],
)
def test_language_follows_arso_lang_then_locale(
    monkeypatch: pytest.MonkeyPatch,
    arso_lang: str | None,
    lang: str | None,
    expected: str,
) -> None:
    for name in ("ARSO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    if arso_lang:
        monkeypatch.setenv("ARSO_LANG", arso_lang)
    if lang:
        monkeypatch.setenv("LANG", lang)

    assert current_language() == expected


def test_english_keeps_the_connectors_message() -> None:
    exc = errors.CredentialsError("Login refused (HTTP 401, invalid_client: x).")

    assert explain(exc, "en") == str(exc)


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (
            errors.CredentialsError(
                "Login refused.", status=401, error="invalid_client"
            ),
            [
                "Prijava zavrnjena",
                "invalid_client",
                "ARSO_CLIENT_SECRET",
                "IS Monitoring",
                "Telemetrija – API poverilnice",
                "MON_TELEMETRIJA",
            ],
        ),
        (
            errors.ConfigError("No client ID", variable="ARSO_CLIENT_ID"),
            ["ARSO_CLIENT_ID", "IS Monitoring"],
        ),
        (
            errors.PermissionDeniedError("403", status=403, url="https://x/y"),
            ["MON_TELEMETRIJA", "https://x/y"],
        ),
        (errors.TransportError("down", url="https://x"), ["ni mogoče doseči"]),
        (errors.PagingError("stop", pages_fetched=3, rows_fetched=40), ["3", "40"]),
    ],
)
def test_slovenian_reading_of_errors(exc: errors.ArsoError, words: list[str]) -> None:
    text = explain(exc, "sl")

    for word in words:
        assert word in text


def test_message_formats_fields() -> None:
    assert message("need_secret", "sl", client_id="API_TEL_1").endswith("API_TEL_1.")

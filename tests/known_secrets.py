"""The suite's known secrets, and where the session-wide guard looks for them.

SECRETS holds the simulator's tokens; a test that uses another token registers it with
`register_secret` (tokens the simulator receives, and those of config entries, are
also discovered after each test). The guard itself lives in `secret_guard.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import logging
import traceback
from typing import Any
from urllib.parse import quote, quote_plus

from .simulator import ALL_TOKEN, DEV_SINGLE_TOKEN, DEV_TOKEN, SINGLE_TOKEN

# Shorter strings would be found by chance; no token of the suite is that short.
MIN_SECRET_LENGTH = 5

# secret -> label: failure reports name the label, never the secret itself.
SECRETS: dict[str, str] = {
    ALL_TOKEN: "simulator.ALL_TOKEN",
    SINGLE_TOKEN: "simulator.SINGLE_TOKEN",
    DEV_TOKEN: "simulator.DEV_TOKEN",
    DEV_SINGLE_TOKEN: "simulator.DEV_SINGLE_TOKEN",
}


def register_secret(secret: str, label: str | None = None) -> str:
    """Make the guard look for this token from now on; return it unchanged."""
    if len(secret.strip()) >= MIN_SECRET_LENGTH and secret not in SECRETS:
        SECRETS[secret] = label or f"token #{len(SECRETS) + 1} ({len(secret)} chars)"
    return secret


def _variants(secret: str) -> set[str]:
    """Return the forms a secret takes in text: as is, stripped, URL-encoded."""
    forms = {secret, secret.strip(), quote_plus(secret), quote(secret, safe="")}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def find_secrets(
    texts: Iterable[str], secrets: Mapping[str, str] | None = None
) -> set[str]:
    """Return the labels of the secrets found in any of the texts."""
    secrets = SECRETS if secrets is None else secrets
    found: set[str] = set()
    texts = list(texts)
    for secret, label in secrets.items():
        forms = _variants(secret)
        if any(form in text for text in texts for form in forms):
            found.add(label)
    return found


def exception_texts(err: BaseException) -> list[str]:
    """Return str, repr and the traceback of an exception and its whole chain."""
    texts = ["".join(traceback.format_exception(err))]
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts.append(repr(getattr(current, "translation_placeholders", None)))
        current = current.__cause__ or current.__context__
    return texts


def record_texts(record: logging.LogRecord) -> list[str]:
    """Return everything a log record could show."""
    try:
        message = record.getMessage()
    except Exception as err:  # noqa: BLE001 - a bad format string is still text
        message = f"<unformattable: {err!r}>"
    texts = [message, str(record.msg), repr(record.args)]
    texts += [record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        texts += exception_texts(record.exc_info[1])
    return texts


def event_texts(event: Any) -> list[str]:
    """Return everything an event could show: its type, data and repr."""
    return [str(event.event_type), repr(event.data), str(event.data), repr(event)]

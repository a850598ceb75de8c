"""Scrubbing secrets out of every string that leaves a step: details, errors, links and log lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"

# `scheme://user:password@host`: a password typed into a URL without `${...}` is masked all the same.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)@")


class Redactor:
    """Replaces every known secret value, as written and as percent-encoded in a URL, with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants = {v for s in secrets if s for v in (s, quote(s, safe=""), quote_plus(s))}
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted(variants, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)

    def scrub_optional(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text)

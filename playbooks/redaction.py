"""Scrubbing secrets out of every string that leaves a step: details, errors, links, snapshots and log lines.

A secret is masked in every form a server or a library may give it back in: as written, percent-encoded (any
mix of `%XX`, either case, and `+` for a space), JSON-escaped, and base64-encoded (standard and URL-safe, with
or without padding, and inside a longer base64 text such as `Basic base64(user:password)` at any alignment).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "***"
VALUE = "<value>"
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")

# `scheme://user:password@host`: a password typed into a URL without `${...}` is masked all the same.
# Bounded repetitions: an unbounded scheme made a long run of letters quadratic to scan.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,40}://[^:/@\s]{0,256}:)(?P<password>[^@/\s]{1,512})@"
)

# Credentials in a server's text that nobody told us about: `Bearer x`, `Basic x`, `"authorization": "x"`,
# `token=x`. Used on the excerpts of answers only: in our own words `basic` and `token` are ordinary words.
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>[Bb]earer|[Bb]asic|[Tt]oken)(?P<gap>\s+)[A-Za-z0-9._~+/=\-]{6,}")
_CREDENTIAL_FIELD = re.compile(
    r"(?i)(?P<key>[\"']?\b(?:proxy-)?(?:authorization|cookie|set-cookie|x-api-key|api[_-]?key|"
    r"access[_-]?token|refresh[_-]?token|token|password|passwd|secret)\b[\"']?\s*[:=]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
)

_MIN_BASE64 = 3  # bytes: shorter secrets are masked as written only
_MIN_BASE64_CORE = 6  # bytes: the alignment-free forms, inside a longer base64 text
_URLSAFE = str.maketrans("+/", "-_")
EXCERPT_MAX = 120
_EXCERPT_WINDOW = 16_384  # characters of an answer redacted to cut an excerpt from
_WHITESPACE_RUN = re.compile(r"\s+")


def _base64_forms(secret: str) -> list[str]:
    """The base64 texts that betray `secret`: whole (padded or not), then the parts of a longer text's encoding
    that depend on the secret's bytes only, at each of the three byte alignments."""
    data = secret.encode()
    if len(data) < _MIN_BASE64:
        return []
    whole = base64.b64encode(data).decode()
    forms = [whole, whole.rstrip("=")]
    if len(data) >= _MIN_BASE64_CORE:
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + data).decode()
            start, end = -(-8 * shift // 6), 8 * (shift + len(data)) // 6
            forms.append(encoded[start:end])
    return list(dict.fromkeys([*forms, *(f.translate(_URLSAFE) for f in forms)]))


def _hex(byte: int) -> str:
    return "".join(f"[{d.upper()}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02x}")


def _flexible(text: str) -> str:
    """A pattern for `text` with each non-alphanumeric character as written, percent-encoded or JSON-escaped."""
    parts = []
    for ch in text:
        if ch.isascii() and ch.isalnum():
            parts.append(ch)
            continue
        forms = [re.escape(ch), "".join("%" + _hex(b) for b in ch.encode())]
        if ch == " ":
            forms.append(r"\+")
        escaped = json.dumps(ch)[1:-1]
        if escaped != ch:
            forms.append(re.escape(escaped))
        if ch == "/":
            forms.append(r"\\/")
        if not ch.isascii() and len(ch.encode("utf-16-le")) == 2:
            forms.append(r"\\u" + "".join(_hex(b) for b in ord(ch).to_bytes(2, "big")))
        parts.append("(?:" + "|".join(forms) + ")")
    return "".join(parts)


def encodings(secret: str) -> list[str]:
    """Regular expressions matching every form of `secret` we mask, the most specific first."""
    if not secret:
        return []
    return [_flexible(secret), *(_flexible(form) for form in _base64_forms(secret))]


def secret_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for every form of every secret; longer secrets first, so one containing another goes whole."""
    ordered = sorted({s for s in secrets if s}, key=lambda s: (-len(s), s))
    alternatives = list(dict.fromkeys(p for s in ordered for p in encodings(s)))
    return re.compile("|".join(alternatives)) if alternatives else None


def url_credentials(value: str) -> set[str]:
    """The password, and `user:password`, of a `scheme://user:password@host` URL: secrets of their own."""
    try:
        parts = urlsplit(value.strip())
        username, password = parts.username, parts.password
    except ValueError:
        return set()
    if not password:
        return set()
    found = {password, unquote(password)}
    if username:
        found |= {f"{username}:{password}", f"{unquote(username)}:{unquote(password)}"}
    return found


def describe_values(text: str, known: Collection[str] = ()) -> str:
    """Quoted text (`'...'`, `"..."`) replaced by `<value>`, unless it is one of the `known` names: an error of
    a database or a library quotes the value it could not read, and values are data, not for a message."""

    def keep_names(m: re.Match[str]) -> str:
        return m.group(0) if m.group(0)[1:-1] in known else VALUE

    return _QUOTED.sub(keep_names, text)


def mask_credentials(text: str) -> str:
    """Mask what looks like a credential in text we did not write (a server's answer)."""
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group('scheme')}{m.group('gap')}{MASK}", text)
    return _CREDENTIAL_FIELD.sub(lambda m: f"{m.group('key')}{MASK}", text)


class Redactor:
    """Replaces every known secret value, in every encoding (see the module), with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = frozenset(s for s in secrets if s)
        self._pattern = secret_pattern(self.secrets)
        # The longest text a secret's masked form may span: 12 characters per character (`\ud83d\ude00`).
        self._reach = 12 * max((len(s) for s in self.secrets), default=0) + len(MASK)

    def extended(self, secrets: Iterable[str]) -> Redactor:
        more = {s for s in secrets if s} - self.secrets
        return Redactor(self.secrets | more) if more else self

    def scrub(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)

    __call__ = scrub

    def scrub_optional(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text)

    def scrub_data(self, value: Any) -> Any:
        """Every string of a JSON-like value scrubbed, keys included (snapshot documents)."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self.scrub_data(k): self.scrub_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_data(v) for v in value]
        return value

    def excerpt(self, text: str, limit: int = EXCERPT_MAX) -> str:
        """A short excerpt of text we did not write: redacted first, then cut, on one line.

        Only the start of a long text is redacted; its last `reach` characters are dropped after redaction,
        since a secret cut at the end of the window would not be recognised there.
        """
        window = text[:_EXCERPT_WINDOW]
        redacted = self.scrub(window)
        if len(text) > len(window):
            redacted = redacted[: max(0, len(redacted) - self._reach)]
        one_line = _WHITESPACE_RUN.sub(" ", mask_credentials(redacted)).strip()
        return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def _first_text(value: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        field = value.get(key)
        if isinstance(field, str) and field.strip():
            return field
    return None


def describe_body(text: str, redactor: Redactor, limit: int = EXCERPT_MAX) -> str:
    """A server's answer in a few words: its error message when it is JSON with one, a short redacted excerpt
    of a plain text, or what kind of body it is. Never the body as it came."""
    body = text.strip()
    if not body:
        return "an empty body"
    if body[0] in "{[":
        try:
            value = json.loads(body)
        except ValueError:
            value = None
        if isinstance(value, dict):
            code = _first_text(value, ("error_code", "errorType", "code"))
            message = _first_text(value, ("error", "message", "detail", "title"))
            if message is not None:
                return redactor.excerpt(f"{code}: {message}" if code else message, limit)
            return "a JSON body without an error message"
        if value is not None:
            return "a JSON body without an error message"
    if body[0] == "<":
        return "an HTML or XML page"
    return redactor.excerpt(body, limit) or "a text body"

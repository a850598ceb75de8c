"""Checks on a step as it is rendered, before anything runs: what the alert may choose, and where credentials go.

- A table or column name chosen by an alert label must be on the allow-list (`allow.tables`, `allow.columns`)
  of the step or the playbook. An incident asset is checked against the list only when there is one.
- A URL (or folder) whose scheme, host or port the alert or the incident chose must be on `allow.urls`, or
  have the host of the step's `base_url`. A value the alert puts in a URL's path or query is percent-encoded.
- Credentials (`token`, `password`, `headers`) go only to the configured host: the step's `base_url`, or else
  its URL's own host when no alert chose it. With a `base_url`, every request of the step must go to its host.

Refusals name the reference (`{labels.health_url}`), never the value it carried (a host is named, as that is
what tells the reader where the request would have gone).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from playbooks import templates
from playbooks.errors import StepError
from playbooks.identifiers import AllowList, AllowListed, NameKind, noun
from playbooks.step_kinds import HttpStepBase, StepBase
from playbooks.taint import clean, clean_data, from_labels, segments, sources

CREDENTIAL_FIELDS = ("token", "password", "headers")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_AUTHORITY_END = re.compile(r"[/?#]")

Origin = tuple[str, str, int]


def guard_step(step: StepBase, data: dict[str, Any], playbook_allow: AllowList | None) -> dict[str, Any]:
    """The rendered field values (`data`, marked by playbooks.taint) checked, URL parts encoded, marks removed.

    Raises StepError with the reason when the step must not run.
    """
    allow = (step.allow or AllowList()).merged(playbook_allow)
    base_url = data.get("base_url")
    if isinstance(base_url, str) and (refs := sources(base_url)):
        raise StepError(f"refused: base_url names the configured host and cannot come from {', '.join(refs)}")
    base = clean(base_url) if isinstance(base_url, str) else None
    out = dict(data)
    chosen: dict[str, list[str]] = {}
    for name in type(step).model_fields:
        listed = templates.field_metadata(type(step), name, AllowListed)
        value = data.get(name)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if listed is None or not isinstance(text, str):
            continue
        if listed.kind == "urls":
            # A SQL URL's path names the database (a file, for DuckDB and SQLite): all of it is location.
            whole = isinstance(value, SecretStr)
            fixed, chosen[name] = _guard_location(text, allow, base, whole=whole)
            out[name] = SecretStr(fixed) if isinstance(value, SecretStr) else fixed
        else:
            _guard_name(listed.kind, text, allow)
    out = {name: clean_data(value) for name, value in out.items()}
    if isinstance(step, HttpStepBase):
        _pin_credentials(step, out, chosen)
    return out


def _guard_name(kind: NameKind, text: str, allow: AllowList) -> None:
    refs = sources(text)
    if not refs or (not from_labels(refs) and not allow.entries(kind)):
        return
    if allow.allows(kind, clean(text)):
        return
    named = ", ".join(refs)
    if not allow.entries(kind):
        raise StepError(
            f"refused: {named} chooses a {noun(kind)} name, and neither the step nor the playbook has "
            f"allow.{kind}: list the {kind} an alert may name"
        )
    raise StepError(f"refused: the {noun(kind)} {named} names is not on allow.{kind}")


def _origin_end(url: str) -> int:
    """Where a URL's scheme and authority end; a text without `://` (a folder) is all location."""
    start = url.find("://")
    if start < 0:
        return len(url)
    found = _AUTHORITY_END.search(url, start + 3)
    return found.start() if found else len(url)


def _guard_location(
    text: str, allow: AllowList, base: str | None, *, whole: bool = False
) -> tuple[str, list[str]]:
    """The URL with the alert's values in its path or query percent-encoded, and the references that chose its
    scheme, host or port (`whole`: any part); refused unless those are on allow.urls or the base_url's."""
    parts = segments(text)
    joined = "".join(p.text for p in parts)
    end = len(joined) if whole else _origin_end(joined)
    at, out, chosen = 0, [], []
    for part in parts:
        start, at = at, at + len(part.text)
        if part.source is None:
            out.append(part.text)
        elif start < end:
            chosen.append(part.source)
            if "@" in part.text:
                raise StepError(f"refused: {part.source} puts credentials or a host after `@` into the URL")
            out.append(part.text)
        else:
            out.append(quote(part.text, safe=""))
    fixed = "".join(out)
    refs = list(dict.fromkeys(chosen))
    if not refs:
        return fixed, refs
    if base is not None and _origin(fixed) is not None and _origin(fixed) == _origin(base):
        return fixed, refs
    if allow.allows("urls", fixed):
        return fixed, refs
    where = f"{', '.join(refs)} points at {where_to(fixed)}"
    if base is not None:
        raise StepError(f"refused: {where}, not the configured host {where_to(base)}")
    raise StepError(f"refused: {where}, which is not on allow.urls of the step or the playbook")


def _origin(url: str) -> Origin | None:
    """Scheme, host and port as the HTTP client will read them; None for anything but an http(s) URL."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
        return None
    return parsed.scheme, parsed.host, parsed.port or _DEFAULT_PORTS[parsed.scheme]


def where_to(url: str) -> str:
    """`host[:port]` of a URL, without its credentials; a folder is "a local folder"."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "an invalid URL"
    if not parsed.host:
        return "a local folder" if "://" not in url else "a local file"
    return parsed.host + (f":{parsed.port}" if parsed.port else "")


def _location_field(step: HttpStepBase) -> str:
    for name in type(step).model_fields:
        listed = templates.field_metadata(type(step), name, AllowListed)
        if listed is not None and listed.kind == "urls":
            return name
    raise AssertionError(f"{type(step).__name__} has no URL field")


def _pin_credentials(step: HttpStepBase, data: dict[str, Any], chosen: dict[str, list[str]]) -> None:
    field = _location_field(step)
    url, base = data.get(field), data.get("base_url")
    if not isinstance(url, str):
        return
    target = _origin(url)
    credentials = any(data.get(name) for name in CREDENTIAL_FIELDS)
    refs = chosen.get(field, [])
    what = ", ".join(refs) if refs else field
    if base is not None:
        configured = _origin(base)
        if configured is None:
            raise StepError("refused: base_url is not an http(s) URL with a host")
        if target != configured and not (target is None and "://" not in url):
            raise StepError(
                f"refused: {what} points at {where_to(url)}, not the configured host {where_to(base)}"
            )
        return
    if credentials and refs and target is not None:
        raise StepError(
            f"refused: {what} chooses the host, and credentials go only to the configured host: "
            "give the step a base_url"
        )

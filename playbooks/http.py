"""HTTP calls of playbook steps: auth headers, JSON answers, and which failures are worth a retry.

An answer's body never reaches a message as it came: `describe_body` gives its error message or a short
excerpt, redacted with the run's secrets before it is cut (a cut secret would no longer be recognised).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from playbooks.context import StepContext
from playbooks.errors import StepError, TransientStepError
from playbooks.redaction import Redactor, describe_body


def auth_headers(
    token: SecretStr | None = None,
    headers: Mapping[str, SecretStr] | None = None,
    username: str | None = None,
    password: SecretStr | None = None,
) -> dict[str, str]:
    out = {name: value.get_secret_value() for name, value in (headers or {}).items()}
    if token is not None:
        out["Authorization"] = f"Bearer {token.get_secret_value()}"
    elif username is not None and password is not None:
        raw = f"{username}:{password.get_secret_value()}".encode()
        out["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    return out


def _what(response: httpx.Response) -> str:
    # The path only: the host may come from a secret and would be masked anyway.
    return f"{response.request.method} {response.request.url.path}"


def raise_for_status(response: httpx.Response, redactor: Redactor) -> None:
    """5xx and 429 may pass on a retry; any other non-2xx answer will not."""
    if response.is_success:
        return
    message = f"{_what(response)} answered {response.status_code}: {describe_body(response.text, redactor)}"
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientStepError(message)
    raise StepError(message)


def json_body(response: httpx.Response, redactor: Redactor) -> Any:
    try:
        return response.json()
    except ValueError:
        described = describe_body(response.text, redactor)
        raise StepError(f"{_what(response)} did not answer JSON: {described}") from None


async def get_json(
    ctx: StepContext,
    url: str,
    *,
    params: Mapping[str, str | int | float] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    response = await ctx.http.get(
        url, params=params, headers=headers, timeout=ctx.timeout, follow_redirects=False
    )
    raise_for_status(response, ctx.redactor)
    return json_body(response, ctx.redactor)


async def post_json(
    ctx: StepContext,
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
) -> Any:
    response = await ctx.http.post(
        url, json=body, headers=headers, timeout=ctx.timeout, follow_redirects=False
    )
    raise_for_status(response, ctx.redactor)
    return json_body(response, ctx.redactor)

"""HTTP calls of playbook steps: auth headers, JSON answers, and which failures are worth a retry."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from playbooks.errors import StepError, TransientStepError
from playbooks.results import clip


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


def raise_for_status(response: httpx.Response) -> None:
    """5xx and 429 may pass on a retry; any other non-2xx answer will not."""
    if response.is_success:
        return
    body = clip(response.text, 200)
    message = f"{_what(response)} answered {response.status_code}: {body}"
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientStepError(message)
    raise StepError(message)


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise StepError(f"{_what(response)} did not answer JSON: {clip(response.text, 120)}") from None


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    request_timeout: float,
    params: Mapping[str, str | int | float] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    response = await client.get(url, params=params, headers=headers, timeout=request_timeout)
    raise_for_status(response)
    return json_body(response)


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: Mapping[str, Any],
    *,
    request_timeout: float,
    headers: Mapping[str, str] | None = None,
) -> Any:
    response = await client.post(url, json=body, headers=headers, timeout=request_timeout)
    raise_for_status(response)
    return json_body(response)

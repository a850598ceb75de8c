"""The Web API pipeline: faults, verb, body type, token, scopes, rate limits, args, handler, answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from slack_sandbox.args import check_args, error_code_for, possible_arg_codes
from slack_sandbox.config import SandboxConfig
from slack_sandbox.errors import SlackError
from slack_sandbox.faults import FaultInjector
from slack_sandbox.methods import REGISTRY, CallContext, MethodImpl
from slack_sandbox.models import JSON, ApiCall, TokenInfo
from slack_sandbox.ratelimit import RateLimiter
from slack_sandbox.reference import MethodSpec, Reference
from slack_sandbox.workspace import Workspace

# Codes the pipeline itself may answer for any method; all are in _common_errors.json.
PIPELINE_CODES = frozenset(
    {
        "unknown_method",
        "ratelimited",
        "fatal_error",
        "invalid_post_type",
        "missing_post_type",
        "invalid_charset",
        "invalid_form_data",
        "invalid_array_arg",
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
        "not_allowed_token_type",
    }
)
_CHARSETS = {"utf-8", "utf8", "iso-8859-1", "latin-1", "latin1"}


class UndocumentedErrorAnswer(AssertionError):
    """The stand-in was about to answer a code Slack does not document for the method (a stand-in bug)."""


@dataclass
class ApiRequest:
    method: str
    http_verb: str
    headers: Mapping[str, str]  # lower-case names
    query: list[tuple[str, str]]
    body: bytes


@dataclass
class ApiResult:
    status: int = 200
    body: JSON | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    events: list[JSON] = field(default_factory=list)


def declared_codes(spec: MethodSpec, impl: MethodImpl | None) -> frozenset[str]:
    """Every code the stand-in may answer for this method: the handler's own, the pipeline's, arg checks'."""
    own = impl.raises if impl else frozenset()
    return own | PIPELINE_CODES | frozenset(possible_arg_codes(spec))


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    media, *params = header.split(";")
    out: dict[str, str] = {}
    for p in params:
        key, _, value = p.strip().partition("=")
        out[key.lower()] = value.strip().strip('"')
    return media.strip().lower(), out


def _multipart(header: str, body: bytes, charset: str) -> dict[str, Any]:
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + header.encode() + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise SlackError("invalid_form_data")
    out: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename():
            continue  # file parts belong to files.upload, which is not modelled
        payload = part.get_payload(decode=True)
        out[name] = payload.decode(charset) if isinstance(payload, bytes) else ""
    return out


class WebApi:
    def __init__(
        self,
        ws: Workspace,
        reference: Reference,
        config: SandboxConfig,
        limiter: RateLimiter,
        faults: FaultInjector,
        base_url: Callable[[], str],
    ) -> None:
        self.ws = ws
        self.ref = reference
        self.config = config
        self.limiter = limiter
        self.faults = faults
        self.base_url = base_url

    # ---- answers ---------------------------------------------------------------------------------
    def _error(
        self,
        name: str,
        code: str,
        *,
        status: int = 200,
        messages: list[str] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        check_declared: bool = True,
    ) -> ApiResult:
        # The central guarantee: only codes documented for the method or common to all methods go out.
        if code not in self.ref.allowed_errors(name):
            raise UndocumentedErrorAnswer(
                f"{name} would answer {code!r}, documented neither for it nor as common"
            )
        spec = self.ref.method(name)
        if check_declared and spec is not None and code not in declared_codes(spec, REGISTRY.get(name)):
            raise UndocumentedErrorAnswer(f"{name} answered {code!r}, which its handler does not declare")
        body: JSON = {"ok": False, "error": code, **(extra or {})}
        if messages:
            body["response_metadata"] = {"messages": list(messages)}
        return ApiResult(status=status, body=body, headers=headers or {})

    def _record(
        self, req: ApiRequest, args: JSON, token: str | None, result: ApiResult, fault: str | None
    ) -> None:
        body = result.body or {}
        with self.ws.lock:
            self.ws.calls.append(
                ApiCall(
                    seq=len(self.ws.calls) + 1,
                    method=req.method,
                    http_verb=req.http_verb,
                    args={k: v for k, v in args.items() if k != "token"},
                    token=token,
                    status=result.status,
                    ok=bool(body.get("ok")),
                    error=body.get("error"),
                    response=body,
                    at=self.ws.clock.now(),
                    fault=fault,
                )
            )

    # ---- parsing ---------------------------------------------------------------------------------
    def _body_args(self, req: ApiRequest, spec: MethodSpec) -> tuple[dict[str, Any], bool]:
        if req.http_verb != "POST" or not req.body.strip():
            return {}, False
        header = req.headers.get("content-type")
        if not header:
            raise SlackError("missing_post_type")
        media, params = _media_type(header)
        charset = params.get("charset", "utf-8").lower()
        if charset not in _CHARSETS:
            raise SlackError("invalid_charset")
        try:
            if media == "application/json":
                if not spec.json_input_supported:
                    raise SlackError(
                        "invalid_post_type", messages=[f"[ERROR] {spec.name} does not accept JSON bodies"]
                    )
                data = json.loads(req.body.decode(charset))
                if not isinstance(data, dict):
                    raise SlackError("invalid_form_data")
                return data, True
            if media == "application/x-www-form-urlencoded":
                return dict(
                    parse_qsl(req.body.decode(charset), keep_blank_values=True, strict_parsing=False)
                ), False
            if media == "multipart/form-data":
                return _multipart(header, req.body, charset), False
        except (UnicodeDecodeError, ValueError):
            raise SlackError("invalid_form_data") from None
        raise SlackError("invalid_post_type")

    def _token(self, req: ApiRequest, args: Mapping[str, Any]) -> str | None:
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        token = args.get("token")
        return str(token) if token else None

    # ---- the pipeline ----------------------------------------------------------------------------
    def handle(self, req: ApiRequest) -> ApiResult:
        with self.ws.lock:
            args: dict[str, Any] = dict(req.query)
            token: str | None = None
            fault_kind: str | None = None
            try:
                result, args, token, fault_kind = self._handle(req, args)
            except SlackError as exc:
                result = self._error(req.method, exc.code, messages=exc.messages, extra=exc.extra)
            self._record(req, args, token, result, fault_kind)
            return result

    def _handle(
        self, req: ApiRequest, args: dict[str, Any]
    ) -> tuple[ApiResult, dict[str, Any], str | None, str | None]:
        name = req.method
        spec = self.ref.method(name)
        impl = REGISTRY.get(name)
        if spec is None or impl is None:
            kind = "unknown_method" if spec is None else "unimplemented_method"
            self.ws.record_violation(
                kind, f"{name} is not {'a Slack method' if spec is None else 'modelled'}", name
            )
            return self._error(name, "unknown_method", check_declared=False), args, None, None

        fault = self.faults.take(name)
        delay = 0.0
        if fault is not None:
            if fault.kind == "429":
                res = ApiResult(
                    status=429,
                    body={"ok": False, "error": "ratelimited"},
                    headers={"Retry-After": str(fault.retry_after)},
                )
                return res, args, None, "429"
            if fault.kind == "500":
                return self._error(name, "fatal_error", status=500), args, None, "500"
            if fault.kind == "drop":
                return ApiResult(status=0, drop=True), args, None, "drop"
            if fault.kind == "error":
                return self._error(name, fault.error, check_declared=False), args, None, "error"
            delay = fault.delay  # "slow": the call takes effect, the answer comes late

        if req.http_verb == "GET" and spec.http_method != "GET":
            # Slack takes POST for any method (slack_sdk's WebClient always POSTs), GET only where documented.
            self.ws.record_violation("wrong_http_verb", f"{name} must be called with POST", name)
            msg = [f"[ERROR] {name} must be called with POST"]
            return self._error(name, "unknown_method", messages=msg), args, None, None

        try:
            body_args, from_json = self._body_args(req, spec)
        except SlackError as exc:
            self.ws.record_violation(exc.code, f"{name}: request body refused ({exc.code})", name)
            raise
        if from_json and "token" in body_args:
            # Slack reads tokens from the Authorization header or form/query params, never a JSON body.
            self.ws.record_violation("token_in_json_body", f"{name}: token in a JSON body is ignored", name)
            body_args.pop("token")
        args.update(body_args)

        token = self._token(req, args)
        info = self.ws.tokens.get(token) if token else None
        if token is None or info is None or info.revoked:
            code = (
                "not_authed"
                if token is None
                else "token_revoked"
                if info and info.revoked
                else "invalid_auth"
            )
            self.ws.record_violation(code, f"{name}: {code}", name)
            return self._error(name, code), args, token, None

        kind_error = self._token_kind_error(spec, impl, info)
        if kind_error is not None:
            return kind_error, args, token, None
        scope_error = self._scope_error(spec, info)
        if scope_error is not None:
            self.ws.record_violation("missing_scope", f"{name}: needs {scope_error.body}", name)
            return scope_error, args, token, None

        retry_after = self.limiter.check(
            info.token, name, spec.tier, channel=str(args.get("channel") or "") or None
        )
        if retry_after is not None:
            res = ApiResult(
                status=429,
                body={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(retry_after)},
            )
            return res, args, token, None

        checked = check_args(spec, args)
        for unknown in checked.unknown:
            self.ws.record_violation("unknown_argument", f"{name} does not take `{unknown}`", name)
        if checked.problems:
            problem = checked.problems[0]
            self.ws.record_violation("invalid_argument", f"{name}: {problem.detail}", name)
            code = error_code_for(spec, problem)
            return (
                self._error(name, code, messages=[f"[ERROR] {problem.detail}"]),
                checked.values,
                token,
                None,
            )

        ctx = CallContext(
            spec=spec,
            args=checked.values,
            token=info,
            ws=self.ws,
            config=self.config,
            base_url=self.base_url(),
        )
        try:
            payload = impl.handler(ctx)
        except SlackError as exc:
            res = self._error(name, exc.code, messages=exc.messages, extra=exc.extra)
            res.delay = delay
            return res, checked.values, token, "slow" if delay else None
        body: JSON = {"ok": True, **payload}
        if ctx.warnings:
            body.setdefault("warning", ",".join(ctx.warnings))
            body.setdefault("response_metadata", {})["warnings"] = list(ctx.warnings)
        headers = {
            "X-OAuth-Scopes": ",".join(sorted(info.scopes)),
            "X-Accepted-OAuth-Scopes": ",".join(spec.bot_scopes or impl.app_scopes),
        }
        res = ApiResult(status=200, body=body, headers=headers, delay=delay, events=ctx.events)
        return res, checked.values, token, "slow" if delay else None

    def _token_kind_error(self, spec: MethodSpec, impl: MethodImpl, info: TokenInfo) -> ApiResult | None:
        """App-level tokens call only the methods that take one, and those take nothing else."""
        if impl.token != info.kind:
            names = {"app": "an app-level token (xapp-)", "bot": "a bot token (xoxb-)"}
            detail = f"{spec.name} takes {names[impl.token]}, not {names[info.kind]}"
            self.ws.record_violation("not_allowed_token_type", detail, spec.name)
            return self._error(spec.name, "not_allowed_token_type")
        missing = [s for s in impl.app_scopes if s not in info.scopes]
        if info.kind == "app" and missing:
            self.ws.record_violation("missing_scope", f"{spec.name}: needs {','.join(missing)}", spec.name)
            extra = {"needed": ",".join(impl.app_scopes), "provided": ",".join(sorted(info.scopes))}
            return self._error(spec.name, "missing_scope", extra=extra)
        return None

    def _scope_error(self, spec: MethodSpec, info: TokenInfo) -> ApiResult | None:
        if spec.no_scope_required or not spec.bot_scopes:
            return None
        if info.scopes & set(spec.bot_scopes):
            return None
        extra = {"needed": ",".join(spec.bot_scopes), "provided": ",".join(sorted(info.scopes))}
        return self._error(spec.name, "missing_scope", extra=extra)

"""Web API method handlers; importing this package registers them all in ``REGISTRY``."""

from __future__ import annotations

from slack_sandbox.methods import apps, auth, chat, conversations, files, items, users, views
from slack_sandbox.methods.registry import REGISTRY, CallContext, MethodImpl, api_method

__all__ = [
    "REGISTRY",
    "CallContext",
    "MethodImpl",
    "api_method",
    "apps",
    "auth",
    "chat",
    "conversations",
    "files",
    "items",
    "users",
    "views",
]

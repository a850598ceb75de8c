"""The live page: the stand-in's workspace in a browser, polled from ``/_sandbox/state``; with
``sb.configure(web_actions=True)`` a chosen person clicks and submits through ``POST /_sandbox/act``."""

from __future__ import annotations

from slack_sandbox.web.routes import ACT_PATH, PAGE_PATH, web_routes
from slack_sandbox.web.state import workspace_state

__all__ = ["ACT_PATH", "PAGE_PATH", "web_routes", "workspace_state"]

"""A faithful local stand-in for Slack (Web API, signed requests to the app, people) for tests and demos."""

from __future__ import annotations

from slack_sandbox.blockkit import BlockKitError, check_message_blocks, check_view
from slack_sandbox.cli import run_sandbox
from slack_sandbox.clock import SandboxClock
from slack_sandbox.config import SandboxConfig
from slack_sandbox.errors import AmbiguousError, ClientSideError, NotFoundError, SandboxError, SlackError
from slack_sandbox.inbound import Ack, EventDelivery
from slack_sandbox.models import (
    ApiCall,
    Bookmark,
    Channel,
    Ephemeral,
    Message,
    Reaction,
    UploadedFile,
    User,
    UserGroup,
    View,
    Violation,
)
from slack_sandbox.reference import ReferenceNotFoundError, load_reference
from slack_sandbox.sandbox import DEFAULT_EVENT_SUBSCRIPTIONS, SlackSandbox
from slack_sandbox.server import AsgiServer
from slack_sandbox.socket_mode import SocketConnection, SocketEnvelope
from slack_sandbox.workspace import DEFAULT_BOT_SCOPES

__all__ = [
    "DEFAULT_BOT_SCOPES",
    "DEFAULT_EVENT_SUBSCRIPTIONS",
    "Ack",
    "AmbiguousError",
    "ApiCall",
    "AsgiServer",
    "BlockKitError",
    "Bookmark",
    "Channel",
    "ClientSideError",
    "Ephemeral",
    "EventDelivery",
    "Message",
    "NotFoundError",
    "Reaction",
    "ReferenceNotFoundError",
    "SandboxClock",
    "SandboxConfig",
    "SandboxError",
    "SlackError",
    "SlackSandbox",
    "SocketConnection",
    "SocketEnvelope",
    "UploadedFile",
    "User",
    "UserGroup",
    "View",
    "Violation",
    "check_message_blocks",
    "check_view",
    "load_reference",
    "run_sandbox",
]

"""A faithful local stand-in for Slack (Web API, signed requests to the app, people) for tests and demos."""

from __future__ import annotations

from bot.sandbox.blockkit import BlockKitError, check_message_blocks, check_view
from bot.sandbox.cli import run_sandbox
from bot.sandbox.clock import SandboxClock
from bot.sandbox.config import SandboxConfig
from bot.sandbox.errors import AmbiguousError, ClientSideError, NotFoundError, SandboxError, SlackError
from bot.sandbox.inbound import Ack, EventDelivery
from bot.sandbox.models import (
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
from bot.sandbox.reference import ReferenceNotFoundError, load_reference
from bot.sandbox.sandbox import DEFAULT_EVENT_SUBSCRIPTIONS, SlackSandbox
from bot.sandbox.server import AsgiServer
from bot.sandbox.workspace import DEFAULT_BOT_SCOPES

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

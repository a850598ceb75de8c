"""Timing and limits of the stand-in's Slack side; Slack's values by default, shrunk by tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SandboxConfig:
    """``ack_timeout`` and ``event_retry_delays`` are real seconds (they are about the network);
    ``trigger_ttl`` and ``response_url_ttl`` are measured on the :class:`SandboxClock`.
    """

    ack_timeout: float = 3.0
    # Slack retries an unacknowledged event nearly at once, after a minute, then after five minutes.
    event_retry_delays: tuple[float, ...] = (0.0, 60.0, 300.0)
    trigger_ttl: float = 3.0
    response_url_max_uses: int = 5
    response_url_ttl: float = 1800.0
    max_text_length: int = 40_000
    max_topic_length: int = 250
    max_invite_users: int = 100
    max_modal_stack: int = 3
    # Socket Mode: how long (real seconds) an envelope waits for the app to have a connection open.
    socket_connect_timeout: float = 10.0
    # The live page's buttons, menus and modals act as the chosen person (POST /_sandbox/act); off: 403.
    web_actions: bool = False

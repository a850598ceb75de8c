"""Block Kit checking of message blocks and views against Slack's limits, with json-pointer messages."""

from __future__ import annotations

from slack_sandbox.blockkit.blocks import (
    MESSAGE_BLOCKS_MAX,
    VIEW_BLOCKS_MAX,
    VIEW_MAX_BYTES,
    check_message_blocks,
    check_view,
    fill_ids,
    view_size,
)
from slack_sandbox.blockkit.core import BlockKitError, BlockKitProblem
from slack_sandbox.blockkit.elements import ELEMENTS

__all__ = [
    "ELEMENTS",
    "MESSAGE_BLOCKS_MAX",
    "VIEW_BLOCKS_MAX",
    "VIEW_MAX_BYTES",
    "BlockKitError",
    "BlockKitProblem",
    "check_message_blocks",
    "check_view",
    "fill_ids",
    "view_size",
]

"""A Slack Web API call that failed for good, in plain words a person can act on."""

from __future__ import annotations

PLAIN_WORDS = {
    "not_in_channel": "the bot is not a member of that channel; invite it with /invite @Handoff",
    "channel_not_found": "that channel does not exist or the bot cannot see it",
    "is_archived": "that channel is archived",
    "missing_scope": "the Slack app lacks a permission; reinstall it from manifest.yaml",
    "invalid_auth": "the bot token is not valid; check SLACK_BOT_TOKEN",
    "not_authed": "no bot token was sent; check SLACK_BOT_TOKEN",
    "ratelimited": "Slack is rate-limiting the bot; it will retry",
    "restricted_action": "a workspace setting forbids the bot from doing this",
    "expired_trigger_id": "the form took too long to open; run the command again",
    "exchanged_trigger_id": "the form was already opened for this click",
}


class SlackCallFailed(Exception):
    """A Web API call failed for good (after retries); `error` is Slack's code, str() is plain words."""

    def __init__(self, method: str, error: str) -> None:
        self.method = method
        self.error = error
        super().__init__(f"Slack refused {method}: {PLAIN_WORDS.get(error, error)}.")

"""``python -m slack_sandbox --port P``: serve the Slack stand-in until Ctrl-C."""

from __future__ import annotations

from slack_sandbox.cli import main

if __name__ == "__main__":
    main()

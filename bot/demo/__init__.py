"""`handoff demo`: the whole handoff on embedded defaults, with the Slack stand-in as the workspace."""

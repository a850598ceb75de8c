"""The Slack edge: identifiers, Block Kit, payload parsing and the Web API gateway."""

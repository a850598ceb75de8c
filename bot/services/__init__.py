"""The use cases: the only place that combines the domain, the store, Slack and playbooks."""

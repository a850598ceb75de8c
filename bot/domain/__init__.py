"""The pure domain of Handoff: incidents, evidence, verdicts and the ownership decision (no I/O)."""

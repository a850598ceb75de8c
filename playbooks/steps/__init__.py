"""One module per built-in step kind: each reads one system and returns a Finding."""

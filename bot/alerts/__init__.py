"""Alert intake: per-source payload models and normalisers, routing rules, and webhook authentication."""

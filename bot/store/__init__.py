"""Persistence: the IncidentStore interface, its Redis implementation, and every Redis key name."""

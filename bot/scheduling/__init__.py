"""Periodic ticks (the reminder sweep and the daily digest) on apscheduler, with all their state in Redis."""

"""Tests of the playbooks package, against real services."""

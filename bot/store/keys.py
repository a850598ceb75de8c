"""Every Redis key the bot uses, in one place, under one versioned prefix."""

from __future__ import annotations

PREFIX = "handoff:v1"

# Incidents


def incident(incident_id: str) -> str:
    return f"{PREFIX}:incident:{incident_id}"


def timeline(incident_id: str) -> str:
    return f"{PREFIX}:timeline:{incident_id}"


ALL_INCIDENTS = f"{PREFIX}:incidents"  # sorted set: incident id -> created (epoch seconds)
INCIDENT_SEQ = f"{PREFIX}:incident-seq"  # counter for human-friendly ids


def open_by_activity(severity: str) -> str:
    return (
        f"{PREFIX}:open-by-activity:{severity}"  # sorted set: active incident id -> last activity (epoch s)
    )


def by_channel(channel_id: str) -> str:
    return f"{PREFIX}:channel:{channel_id}"  # string: incident id of the incident owning a channel


def idempotency(token: str) -> str:
    return f"{PREFIX}:idem:{token}"  # string: incident id created for a request token


# Alerts
def alert_key(dedup_key: str) -> str:
    return f"{PREFIX}:alert-key:{dedup_key}"  # string: incident id the dedup key belongs to


def asset_incident(asset: str) -> str:
    return (
        f"{PREFIX}:asset:{asset}"  # string: incident id of the open incident on an asset (with TTL = window)
    )


ALERT_STREAM = f"{PREFIX}:alerts"  # stream of accepted, not-yet-processed alerts
ALERT_GROUP = "handoff"  # consumer group of the alert stream
ALERT_DEAD_LETTER = f"{PREFIX}:alerts-dead"  # stream of inbox entries that could not be read or kept failing


# Playbooks
def schema_snapshot(name: str) -> str:
    return f"{PREFIX}:schema-snapshot:{name}"


def model_aliases_snapshot(name: str) -> str:
    return f"{PREFIX}:model-aliases-snapshot:{name}"  # string: JSON of a registered model's alias -> version


def playbook_run(run_id: str) -> str:
    return f"{PREFIX}:playbook-run:{run_id}"


RUN_QUEUE = f"{PREFIX}:playbook-runs"  # stream of playbook run requests for `handoff worker` processes
RUN_GROUP = "workers"  # consumer group of the run stream


def run_message(run_id: str) -> str:
    return f"{PREFIX}:playbook-run-message:{run_id}"  # string: ts of a queued run's progress message


# Scheduling
def once(token: str) -> str:
    return f"{PREFIX}:once:{token}"  # set NX: a reminder or digest slot already sent


def lock(name: str) -> str:
    return f"{PREFIX}:lock:{name}"

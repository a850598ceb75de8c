"""Alerts meeting an incident: the note an alert leaves, attaching it, and taking the notes to announce them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.alerts import (
    MAX_ALERT_NOTES,
    Alert,
    AlertStatus,
    alert_note,
    attach_alert,
    take_alert_notes,
)
from bot.domain.incident import Incident, OpeningProgress
from bot.domain.models import Asset, AssetKind, Severity
from tests.domain.builders import ENDPOINT, LATER, NOW, STALE_TABLE, new_incident

ORDERS = Asset(kind=AssetKind.TABLE, name="warehouse.orders")
OPENED = OpeningProgress(
    channel_created=True,
    members_invited=True,
    topic_set=True,
    card_posted=True,
    card_pinned=True,
    checklists_posted=True,
)


def alert(
    key: str = "orders-freshness",
    *,
    resolved: bool = False,
    summary: str = "orders is stale",
    assets: tuple[Asset, ...] = (),
) -> Alert:
    return Alert(
        source="alertmanager",
        dedup_key=key,
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        severity=Severity.SEV2,
        summary=summary,
        assets=assets,
    )


def opened(**update: object) -> Incident:
    return new_incident(**{"opening": OPENED, "channel_id": "C1", **update})


class TestAlertNote:
    def test_firing_and_resolved(self) -> None:
        assert alert_note(alert()) == "Firing: orders is stale (alertmanager)"
        assert alert_note(alert(resolved=True)) == "Resolved: orders is stale (alertmanager)"

    def test_the_key_stands_in_for_a_missing_summary(self) -> None:
        assert alert_note(alert(summary="")) == "Firing: orders-freshness (alertmanager)"


class TestAttachAlert:
    def test_a_firing_alert_joins_the_incident(self) -> None:
        """Its key is known and firing, its new assets added after the incident's, its note pending."""
        incident = new_incident()
        after = attach_alert(incident, alert(assets=(ORDERS, STALE_TABLE)), LATER)
        assert after.alert_keys == ["orders-freshness"]
        assert after.alerts_firing == ["orders-freshness"]
        assert after.assets == [ENDPOINT, STALE_TABLE, ORDERS]
        assert after.alert_notes == ["Firing: orders is stale (alertmanager)"]
        assert after.updated_at == LATER

    def test_attaching_is_not_activity(self) -> None:
        """An alert does not reset the reminder clock (a person's action does), nor change the state."""
        incident = new_incident()
        after = attach_alert(incident, alert(), LATER)
        assert after.last_activity_at == NOW
        assert after.reminders == incident.reminders
        assert after.state is incident.state

    def test_the_incident_given_is_left_as_it_was(self) -> None:
        incident = new_incident()
        attach_alert(incident, alert(assets=(ORDERS,)), LATER)
        assert incident == new_incident()

    def test_a_resolution_stops_the_key_firing_and_keeps_it_known(self) -> None:
        fired = attach_alert(new_incident(), alert(), NOW)
        after = attach_alert(fired, alert(resolved=True), LATER)
        assert after.alert_keys == ["orders-freshness"]
        assert after.alerts_firing == []
        assert after.alert_notes == [
            "Firing: orders is stale (alertmanager)",
            "Resolved: orders is stale (alertmanager)",
        ]

    def test_a_key_firing_again_is_listed_once(self) -> None:
        twice = attach_alert(attach_alert(new_incident(), alert(), NOW), alert(), LATER)
        assert twice.alert_keys == ["orders-freshness"]
        assert twice.alerts_firing == ["orders-freshness"]
        assert len(twice.alert_notes) == 2

    def test_pending_notes_are_capped_keeping_the_latest(self) -> None:
        incident = new_incident(alert_notes=[f"old {n}" for n in range(MAX_ALERT_NOTES)])
        after = attach_alert(incident, alert(), LATER)
        assert len(after.alert_notes) == MAX_ALERT_NOTES
        assert after.alert_notes[0] == "old 1"
        assert after.alert_notes[-1] == "Firing: orders is stale (alertmanager)"

    @given(
        st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.booleans()), max_size=30),
    )
    def test_keys_are_unique_and_firing_ones_are_known(self, events: list[tuple[str, bool]]) -> None:
        """Whatever the sequence: no key twice, firing keys are known keys, and a key fires iff its last
        alert was firing."""
        incident = new_incident()
        last: dict[str, bool] = {}
        for key, resolved in events:
            incident = attach_alert(incident, alert(key, resolved=resolved), LATER)
            last[key] = not resolved
        assert len(incident.alert_keys) == len(set(incident.alert_keys)) == len(last)
        assert set(incident.alerts_firing) == {k for k, firing in last.items() if firing}
        assert len(incident.alerts_firing) == len(set(incident.alerts_firing))


class TestTakeAlertNotes:
    def test_the_notes_of_an_open_channel_are_taken(self) -> None:
        incident = opened(alert_notes=["Firing: x", "Resolved: x"])
        taken, notes = take_alert_notes(incident)
        assert notes == ["Firing: x", "Resolved: x"]
        assert taken.alert_notes == []
        assert incident.alert_notes == ["Firing: x", "Resolved: x"]  # the given incident is unchanged

    def test_notes_wait_until_the_opening_is_done(self) -> None:
        """Before the channel is fully open nothing is taken, and the very same incident comes back."""
        for incident in (
            new_incident(alert_notes=["Firing: x"]),  # no channel yet
            new_incident(alert_notes=["Firing: x"], channel_id="C1"),  # card and checklists not posted
            opened(alert_notes=["Firing: x"], channel_id=None),
        ):
            taken, notes = take_alert_notes(incident)
            assert notes == []
            assert taken is incident

    def test_nothing_to_take(self) -> None:
        incident = opened()
        taken, notes = take_alert_notes(incident)
        assert (taken, notes) == (incident, [])
        assert taken is incident

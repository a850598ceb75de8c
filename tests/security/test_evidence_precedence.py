"""Evidence precedence (bot/domain/evidence.py): a person's entry is never overwritten by a playbook or an alert."""

from __future__ import annotations

import pytest

from bot.domain.errors import IllegalTransition
from bot.domain.evidence import MAX_NOTES, Precedence, precedence, record_entry
from bot.domain.incident import Incident
from bot.domain.models import EvidenceSource, EvidenceStatus, IncidentState
from tests.domain.builders import FRESHNESS, LATER, NOW, incident_in, new_incident

S = EvidenceStatus
DANA = EvidenceSource(kind="person", user_id="U_DANA")
MAYA = EvidenceSource(kind="person", user_id="U_MAYA")
PLAYBOOK = EvidenceSource(kind="playbook", playbook="dataops-freshness", run_id="r1", step="freshness")
ALERT = EvidenceSource(kind="alert")


def set_by_dana(status: EvidenceStatus = S.ANOMALOUS, detail: str = "checked by hand") -> Incident:
    incident, rule = record_entry(new_incident(), FRESHNESS, status, detail, DANA, NOW)
    assert rule is Precedence.SET
    return incident


class TestRule:
    @pytest.mark.parametrize("finding", list(S))
    def test_a_finding_on_a_blank_or_playbook_item_sets_it(self, finding: EvidenceStatus) -> None:
        item = new_incident().evidence[FRESHNESS]
        assert precedence(item, PLAYBOOK, finding) is Precedence.SET
        by_playbook = item.model_copy(update={"source": PLAYBOOK, "status": S.OK})
        assert precedence(by_playbook, PLAYBOOK, finding) is Precedence.SET

    @pytest.mark.parametrize("finding", list(S))
    def test_a_person_always_sets(self, finding: EvidenceStatus) -> None:
        item = set_by_dana().evidence[FRESHNESS]
        assert precedence(item, MAYA, finding) is Precedence.SET

    @pytest.mark.parametrize("source", [PLAYBOOK, ALERT])
    def test_a_finding_on_a_persons_entry_is_a_note_or_a_conflict(self, source: EvidenceSource) -> None:
        item = set_by_dana(S.ANOMALOUS).evidence[FRESHNESS]
        assert precedence(item, source, S.ANOMALOUS) is Precedence.NOTE  # agrees
        assert precedence(item, source, S.UNKNOWN) is Precedence.NOTE  # could not check
        assert precedence(item, source, S.OK) is Precedence.CONFLICT
        assert precedence(item, source, S.NOT_APPLICABLE) is Precedence.CONFLICT


class TestRecordEntry:
    def test_a_differing_finding_keeps_the_persons_value_and_marks_a_conflict(self) -> None:
        incident = set_by_dana(S.ANOMALOUS, "anomalous, checked by hand")
        after, rule = record_entry(incident, FRESHNESS, S.OK, "updated 10 min ago", PLAYBOOK, LATER)
        assert rule is Precedence.CONFLICT
        item = after.evidence[FRESHNESS]
        assert (item.status, item.detail, item.source) == (S.ANOMALOUS, "anomalous, checked by hand", DANA)
        [note] = item.notes
        assert (note.status, note.detail, note.source, note.conflict) == (
            S.OK,
            "updated 10 min ago",
            PLAYBOOK,
            True,
        )
        assert after.proposal() == incident.proposal()  # the decision still rests on the person's entry

    def test_a_failed_run_only_adds_a_note(self) -> None:
        incident = set_by_dana(S.ANOMALOUS, "anomalous, checked by hand")
        after, rule = record_entry(
            incident, FRESHNESS, S.UNKNOWN, "could not check: timeout", PLAYBOOK, LATER
        )
        assert rule is Precedence.NOTE
        item = after.evidence[FRESHNESS]
        assert item.status is S.ANOMALOUS
        assert item.detail == "anomalous, checked by hand"
        assert [n.conflict for n in item.notes] == [False]

    def test_the_person_setting_it_again_decides_and_clears_the_notes(self) -> None:
        incident = set_by_dana(S.ANOMALOUS)
        noted, _ = record_entry(incident, FRESHNESS, S.OK, "fresh", PLAYBOOK, LATER)
        again, rule = record_entry(noted, FRESHNESS, S.OK, "the playbook is right", DANA, LATER)
        assert rule is Precedence.SET
        item = again.evidence[FRESHNESS]
        assert (item.status, item.detail, item.notes) == (S.OK, "the playbook is right", [])

    def test_a_finding_on_an_unset_item_sets_it_as_before(self) -> None:
        after, rule = record_entry(new_incident(), FRESHNESS, S.ANOMALOUS, "9 h late", PLAYBOOK, NOW)
        assert rule is Precedence.SET
        assert after.evidence[FRESHNESS].status is S.ANOMALOUS
        assert after.evidence[FRESHNESS].source == PLAYBOOK

    def test_notes_are_bounded(self) -> None:
        incident = set_by_dana()
        for n in range(MAX_NOTES + 3):
            incident, _ = record_entry(incident, FRESHNESS, S.OK, f"run {n}", PLAYBOOK, LATER)
        notes = incident.evidence[FRESHNESS].notes
        assert len(notes) == MAX_NOTES
        assert notes[-1].detail == f"run {MAX_NOTES + 2}"

    def test_a_note_is_refused_once_decided_like_any_entry(self) -> None:
        decided = incident_in(IncidentState.DECIDED)
        person_set = decided.evidence["mlops.drift_signals"]
        assert person_set.source is not None
        assert person_set.source.kind == "person"
        with pytest.raises(IllegalTransition, match="frozen"):
            record_entry(decided, "mlops.drift_signals", S.OK, "x", PLAYBOOK, LATER)

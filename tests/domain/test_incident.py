"""The Incident aggregate: evidence, confirmations, reopen, close, what each side owes, channel names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.decision import DecisionStatus, DisputeKind, Rule
from bot.domain.errors import IllegalTransition, InvalidInput
from bot.domain.incident import (
    Incident,
    ReminderState,
    channel_name,
    close,
    confirm_side,
    record_evidence,
    reopen,
    slugify,
)
from bot.domain.models import EvidenceStatus, IncidentState, Owner, Severity, Side
from tests.domain.builders import (
    DRIFT,
    ENDPOINT,
    FRESHNESS,
    LATER,
    NOW,
    PERSON,
    PLAYBOOK,
    PREVENTION,
    SERVING,
    STALE_TABLE,
    clear,
    decided,
    incident_in,
    investigating_with_stale_table,
    need_more,
    new_incident,
    owns,
    verdict,
)

S = IncidentState
ML, DATA = Side.MLOPS, Side.DATAOPS
SLACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def reminded(incident: Incident) -> Incident:
    """The incident after two ignored reminders."""
    return incident.model_copy(update={"reminders": ReminderState(sent=2, last_sent_at=NOW, escalated=True)})


class TestRecordEvidence:
    def test_first_evidence_moves_open_to_investigating(self) -> None:
        """Recording the first item on an open incident starts the investigation."""
        incident = record_evidence(new_incident(), SERVING, EvidenceStatus.OK, "ready", PERSON, LATER)
        assert incident.state is S.INVESTIGATING

    def test_sets_the_item_and_leaves_the_original_untouched(self) -> None:
        """The item gets status, detail, link, source, time and asset; the input incident is not mutated."""
        before = new_incident()
        after = record_evidence(
            before, FRESHNESS, EvidenceStatus.ANOMALOUS, "3 h late", PLAYBOOK, LATER, "https://x", STALE_TABLE
        )
        item = after.evidence[FRESHNESS]
        assert (item.status, item.detail, item.link, item.source, item.updated_at, item.asset) == (
            EvidenceStatus.ANOMALOUS,
            "3 h late",
            "https://x",
            PLAYBOOK,
            LATER,
            STALE_TABLE,
        )
        assert before.evidence[FRESHNESS].status is EvidenceStatus.UNKNOWN
        assert before.state is S.OPEN

    def test_keeps_the_items_asset_when_none_is_given(self) -> None:
        """Updating an item without an asset keeps the asset it already named."""
        incident = investigating_with_stale_table()
        incident = record_evidence(incident, FRESHNESS, EvidenceStatus.OK, "caught up", PERSON, LATER)
        assert incident.evidence[FRESHNESS].asset == STALE_TABLE

    def test_resets_reminders_and_activity(self) -> None:
        """Evidence is activity: the reminder count and escalation reset, the activity clock moves."""
        incident = record_evidence(reminded(new_incident()), SERVING, EvidenceStatus.OK, "", PERSON, LATER)
        assert incident.reminders == ReminderState()
        assert incident.last_activity_at == LATER
        assert incident.updated_at == LATER

    def test_investigating_stays_investigating(self) -> None:
        """More evidence on an investigating incident keeps it investigating."""
        incident = record_evidence(
            investigating_with_stale_table(), SERVING, EvidenceStatus.OK, "", PERSON, LATER
        )
        assert incident.state is S.INVESTIGATING

    def test_keeps_verdicts_already_given(self) -> None:
        """Evidence recorded after a confirmation leaves that confirmation in place."""
        incident, _ = confirm_side(investigating_with_stale_table(), clear(ML), NOW)
        incident = record_evidence(incident, SERVING, EvidenceStatus.OK, "", PERSON, LATER)
        assert set(incident.verdicts) == {ML}

    @pytest.mark.parametrize("state", [S.DECIDED, S.RESOLVED, S.CLOSED], ids=str)
    def test_refused_once_decided(self, state: IncidentState) -> None:
        """Evidence is frozen from the decision on: IllegalTransition, incident unchanged."""
        incident = incident_in(state)
        before = incident.model_dump()
        with pytest.raises(IllegalTransition, match="reopen"):
            record_evidence(incident, SERVING, EvidenceStatus.OK, "", PERSON, LATER)
        assert incident.model_dump() == before

    def test_unknown_item_is_refused(self) -> None:
        """A ref that is not on the checklist is InvalidInput naming it."""
        with pytest.raises(InvalidInput, match=r"mlops\.gpu_temperature"):
            record_evidence(new_incident(), "mlops.gpu_temperature", EvidenceStatus.OK, "", PERSON, LATER)


class TestConfirmSide:
    def test_one_verdict_is_recorded_and_proposed(self) -> None:
        """A first verdict is stored; the incident stays undecided and the decision is a proposal."""
        incident, decision = confirm_side(investigating_with_stale_table(), owns(DATA), LATER)
        assert incident.verdicts == {DATA: owns(DATA)}
        assert incident.state is S.INVESTIGATING
        assert incident.decision is None
        assert decision.status is DecisionStatus.PROPOSED
        assert decision.awaiting == (ML,)

    def test_agreeing_verdicts_decide_the_incident(self) -> None:
        """The second, agreeing verdict moves to decided and stores the agreed decision with its time."""
        incident, _ = confirm_side(investigating_with_stale_table(), clear(ML), NOW)
        incident, decision = confirm_side(incident, owns(DATA), LATER)
        assert decision.status is DecisionStatus.AGREED
        assert incident.state is S.DECIDED
        assert incident.decision == decision
        assert incident.decided_at == LATER
        assert (decision.owner, decision.failed_asset, decision.prevention_owner) == (
            Owner.DATAOPS,
            STALE_TABLE,
            PREVENTION[DATA],
        )

    def test_agreeing_verdicts_decide_an_open_incident(self) -> None:
        """Verdicts before any evidence can still decide: open moves straight to decided."""
        incident, _ = confirm_side(new_incident(), owns(ML), NOW)
        incident, decision = confirm_side(incident, clear(DATA), LATER)
        assert incident.state is S.DECIDED
        assert decision.rule is Rule.CONFIRMED_BY_SIDES

    def test_dispute_clears_both_confirmations(self) -> None:
        """Conflicting verdicts are returned as a dispute and both confirmations are cleared."""
        incident, _ = confirm_side(investigating_with_stale_table(), clear(ML), NOW)
        incident, decision = confirm_side(incident, clear(DATA), LATER)
        assert decision.status is DecisionStatus.DISPUTED
        assert decision.disputes[0].kind is DisputeKind.BOTH_CLEAR
        assert incident.verdicts == {}
        assert incident.state is S.INVESTIGATING
        assert incident.decision is None

    def test_revision_before_the_decision_replaces_the_verdict(self) -> None:
        """A side may change its verdict before the decision: the latest one counts."""
        incident, _ = confirm_side(investigating_with_stale_table(), need_more(ML), NOW)
        incident, _ = confirm_side(incident, clear(ML), LATER)
        assert incident.verdicts == {ML: clear(ML)}
        incident, decision = confirm_side(incident, owns(DATA), LATER)
        assert decision.status is DecisionStatus.AGREED

    def test_need_more_does_not_decide(self) -> None:
        """Need-more from one side and a verdict from the other stays undecided."""
        incident, _ = confirm_side(investigating_with_stale_table(), need_more(ML), NOW)
        incident, decision = confirm_side(incident, owns(DATA), LATER)
        assert decision.status is DecisionStatus.PROPOSED
        assert incident.state is S.INVESTIGATING
        assert set(incident.verdicts) == {ML, DATA}

    def test_resets_reminders(self) -> None:
        """A confirmation is activity: reminders reset."""
        incident, _ = confirm_side(reminded(investigating_with_stale_table()), clear(ML), LATER)
        assert incident.reminders == ReminderState()
        assert incident.last_activity_at == LATER

    @pytest.mark.parametrize("state", [S.DECIDED, S.RESOLVED, S.CLOSED], ids=str)
    def test_refused_after_the_decision(self, state: IncidentState) -> None:
        """Once decided, no verdict is accepted (reopen first); the incident is unchanged."""
        incident = incident_in(state)
        before = incident.model_dump()
        with pytest.raises(IllegalTransition, match="before the decision"):
            confirm_side(incident, owns(ML), LATER)
        assert incident.model_dump() == before

    @pytest.mark.parametrize("missing", ["asset", "prevention_owner"])
    def test_owning_verdict_must_name_asset_and_prevention_owner(self, missing: str) -> None:
        """An owning verdict without the asset or the prevention owner is InvalidInput."""
        bare = owns(DATA).model_copy(update={missing: None})
        with pytest.raises(InvalidInput, match="prevention work"):
            confirm_side(investigating_with_stale_table(), bare, LATER)

    def test_clear_and_need_more_need_no_asset(self) -> None:
        """Clear and need-more verdicts carry no asset and are accepted."""
        incident, _ = confirm_side(new_incident(), verdict(ML, clear(ML).kind), NOW)
        incident, _ = confirm_side(incident, need_more(DATA), NOW)
        assert set(incident.verdicts) == {ML, DATA}


class TestReopen:
    def test_clears_decision_and_verdicts_but_keeps_evidence(self) -> None:
        """Reopening withdraws the decision and the verdicts; the evidence stays."""
        incident = decided().model_copy(update={"decision_ts": "1714560000.000100"})
        reopened = reopen(incident, LATER)
        assert reopened.state is S.INVESTIGATING
        assert (reopened.decision, reopened.decided_at, reopened.decision_ts) == (None, None, None)
        assert reopened.verdicts == {}
        assert reopened.evidence == incident.evidence

    def test_reopening_a_resolved_incident_clears_the_note(self) -> None:
        """A resolved incident reopens to investigating with no resolution note."""
        resolved = incident_in(S.RESOLVED).model_copy(update={"resolution_note": "mitigated"})
        reopened = reopen(resolved, LATER)
        assert reopened.state is S.INVESTIGATING
        assert reopened.resolution_note is None

    @pytest.mark.parametrize("state", [S.OPEN, S.INVESTIGATING, S.CLOSED], ids=str)
    def test_refused_without_a_decision_to_withdraw(self, state: IncidentState) -> None:
        """Open, investigating and closed incidents cannot be reopened."""
        with pytest.raises(IllegalTransition):
            reopen(incident_in(state), LATER)

    def test_a_reopened_incident_can_be_decided_again(self) -> None:
        """After reopening, evidence can change and new agreeing verdicts decide again."""
        incident = reopen(decided(), LATER)
        incident = record_evidence(incident, SERVING, EvidenceStatus.ANOMALOUS, "503s", PERSON, LATER)
        incident = record_evidence(incident, FRESHNESS, EvidenceStatus.OK, "caught up", PERSON, LATER)
        incident = record_evidence(incident, DRIFT, EvidenceStatus.OK, "", PERSON, LATER)
        incident, _ = confirm_side(incident, owns(ML, ENDPOINT), LATER)
        incident, decision = confirm_side(incident, clear(DATA), LATER)
        assert incident.state is S.DECIDED
        assert decision.owner is Owner.MLOPS


class TestClose:
    def test_closes_a_decided_incident_with_its_note(self) -> None:
        """A decided incident resolves and closes in one step; the note is stored stripped."""
        incident = decided()
        closed = close(incident, "  Backfilled and added a freshness check. ", LATER)
        assert closed.state is S.CLOSED
        assert closed.resolution_note == "Backfilled and added a freshness check."
        assert closed.decision == incident.decision

    def test_closes_a_resolved_incident(self) -> None:
        """A resolved incident closes with a note."""
        assert close(incident_in(S.RESOLVED), "done", LATER).state is S.CLOSED

    @pytest.mark.parametrize("note", ["", "   ", "\n\t"])
    def test_needs_a_note(self, note: str) -> None:
        """A blank note is InvalidInput that says how to close."""
        with pytest.raises(InvalidInput, match="resolution note"):
            close(decided(), note, LATER)

    @pytest.mark.parametrize("state", [S.OPEN, S.INVESTIGATING, S.CLOSED], ids=str)
    def test_needs_a_decision(self, state: IncidentState) -> None:
        """Without a decision (or already closed) closing is an IllegalTransition; nothing changes."""
        incident = incident_in(state)
        before = incident.model_dump()
        with pytest.raises(IllegalTransition):
            close(incident, "done", LATER)
        assert incident.model_dump() == before


class TestOwing:
    def test_a_new_incident_owes_everything(self) -> None:
        """Every unknown item and a confirmation are owed by each side."""
        owed = new_incident().owing()
        assert owed[ML][-1] == "confirmation"
        assert owed[DATA][-1] == "confirmation"
        assert len(owed[ML]) == 6
        assert len(owed[DATA]) == 7

    def test_need_more_still_owes_a_confirmation(self) -> None:
        """A need-more verdict is not a confirmation: the side still owes one."""
        incident, _ = confirm_side(new_incident(), need_more(ML), NOW)
        assert "confirmation" in incident.owing()[ML]

    def test_a_side_with_everything_known_and_confirmed_owes_nothing(self) -> None:
        """A side whose items are all known and who confirmed is not in the owing list."""
        incident = new_incident()
        for item in incident.items_for(ML):
            incident = record_evidence(incident, item.ref, EvidenceStatus.OK, "", PERSON, NOW)
        incident, _ = confirm_side(incident, clear(ML), NOW)
        assert ML not in incident.owing()


class TestSlugify:
    def test_lowercases_and_dashes(self) -> None:
        """Words become lowercase, joined by single dashes, with no dash at either end."""
        assert slugify("  Churn Model: precision DROPPED!! ") == "churn-model-precision-dropped"

    def test_folds_accents_and_drops_other_scripts(self) -> None:
        """Accented letters fold to ascii; characters with no ascii form are dropped."""
        assert slugify("Prévision café ñ") == "prevision-cafe-n"
        assert slugify("模型漂移") == "incident"

    def test_is_cut_at_the_limit_without_a_trailing_dash(self) -> None:
        """A long title is cut to the limit and never ends on a dash."""
        slug = slugify("abcd " * 30, max_length=12)
        assert slug == "abcd-abcd-ab"
        assert slugify("abcd efgh", max_length=5) == "abcd"


def _incident(title: str, incident_id: str = "INC-42") -> Incident:
    return new_incident(title=title, id=incident_id, severity=Severity.SEV1)


class TestChannelName:
    def test_fills_the_template(self) -> None:
        """Date, slug, id and severity fill the template; the result is lowercased."""
        name = channel_name("inc-{yyyymmdd}-{severity}-{id}-{slug}", _incident("Churn drift"))
        assert name == "inc-20240501-sev1-inc-42-churn-drift"

    def test_attempts_add_a_suffix(self) -> None:
        """Attempt 0 has no suffix; attempt n adds -(n+1) after a name_taken."""
        incident = _incident("Churn drift")
        names = [channel_name("inc-{slug}", incident, attempt) for attempt in range(3)]
        assert names == ["inc-churn-drift", "inc-churn-drift-2", "inc-churn-drift-3"]

    def test_very_long_title_and_id_fit_in_80(self) -> None:
        """A long template, id and title still give at most 80 characters, suffix included."""
        incident = _incident("x" * 150, incident_id="I" * 100)
        for attempt in (0, 1, 9, 99):
            name = channel_name("incident-{date}-{id}-{slug}", incident, attempt)
            assert len(name) <= 80
            assert SLACK_NAME.match(name)
        assert channel_name("incident-{date}-{id}-{slug}", incident, 99).endswith("-100")

    def test_unicode_title_and_id_are_made_slack_safe(self) -> None:
        """Unicode in the title and the id never reaches the channel name."""
        name = channel_name("{id}_{slug}", _incident("Dérive du modèle 🚨", incident_id="İNC-Ω7"))
        assert SLACK_NAME.match(name)
        assert name.endswith("_derive-du-modele")

    def test_a_template_that_cleans_to_nothing_still_names_the_channel(self) -> None:
        """Fields that are all punctuation fall back to "incident" rather than an empty name Slack refuses."""
        incident = _incident("Churn drift", incident_id="::")
        assert channel_name("{id}", incident) == "incident"
        assert channel_name("{id}", incident, 1) == "incident-2"

    @settings(max_examples=150, deadline=None)
    @given(
        title=st.text(min_size=1, max_size=150),
        incident_id=st.text(min_size=1, max_size=60),
        template=st.sampled_from(
            ["inc-{yyyymmdd}-{slug}", "{id}-{slug}", "incident_{severity}_{date}_{slug}", "{slug}", "{id}"]
        ),
        attempt=st.integers(min_value=0, max_value=500),
    )
    def test_any_title_gives_a_valid_slack_name(
        self, title: str, incident_id: str, template: str, attempt: int
    ) -> None:
        """For any title, id and attempt: a non-empty name of [a-z0-9_-], at most 80, suffix kept."""
        incident = _incident(title, incident_id)
        name = channel_name(template, incident, attempt)
        assert SLACK_NAME.match(name), name
        assert len(name) <= 80
        if attempt:
            assert name.endswith(f"-{attempt + 1}")
            assert name != channel_name(template, incident, 0)

"""The reminder, escalation, snooze and digest messages as Block Kit: content, ids, and Slack's limits."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.domain.incident import Incident
from bot.domain.models import Severity, Side
from bot.domain.reminders import Due, SnoozeChoice, build_digest, decide
from bot.slack import blocks
from bot.slack.ids import ActionId, unpack
from tests.reminders.support import POLICIES, T0, incident

ML_USERS, DATA_USERS = ["UML1", "UML2"], ["UDATA1", "UDATA2"]
ML_LEAD, DATA_LEAD = "UMLLEAD", "UDATALEAD"

RESPONDERS = {Side.MLOPS: ML_USERS, Side.DATAOPS: DATA_USERS}
LEADS = {Side.MLOPS: [ML_LEAD], Side.DATAOPS: [DATA_LEAD]}


def due_for(current: Incident, minutes: int, **state: object) -> Due:
    current = current.model_copy(update={"reminders": current.reminders.model_copy(update=state)})
    due = decide(current, POLICIES[current.severity], None, T0 + timedelta(minutes=minutes))
    assert isinstance(due, Due)
    return due


class TestReminderMessage:
    def test_snooze_buttons(self) -> None:
        """Three buttons with distinct indexed action ids and `<incident>|<choice>` values."""
        actions = blocks.snooze_buttons("INC-7").to_dict()
        ids = [e["action_id"] for e in actions["elements"]]
        assert ids == [f"{ActionId.SNOOZE}.{n}" for n in range(3)]
        values = [unpack(e["value"], 2) for e in actions["elements"]]
        assert values == [["INC-7", c.value] for c in SnoozeChoice]

    def test_reminder_names_sides_and_people_without_leads(self) -> None:
        """A plain reminder: number, idle time, what each side owes, its responders; no leads; snooze last."""
        current = incident("INC-7", Severity.SEV2, channel_id="CINC7")
        due = due_for(current, 75)
        rendered = [b.to_dict() for b in blocks.reminder_message(current, due, RESPONDERS, LEADS)]
        text = json.dumps(rendered)
        assert "INC-7 reminder 1" in text
        assert "1 h 15 min" in text
        assert "MLOps still owes" in text
        assert "DataOps still owes" in text
        assert all(f"<@{u}>" in text for u in ML_USERS + DATA_USERS)
        assert ML_LEAD not in text
        assert rendered[-1]["type"] == "actions"
        assert blocks.reminder_text(current, due).startswith("INC-7 reminder 1: no activity for 1 h 15 min")

    def test_escalation_mentions_leads_in_channel_and_triage(self) -> None:
        """The escalation names the leads; the triage notice links the channel and says who is waited on."""
        current = incident("INC-7", Severity.SEV1, channel_id="CINC7")
        due = due_for(current, 45, sent=2, last_sent_at=T0 + timedelta(minutes=30))
        assert due.escalation
        channel = json.dumps([b.to_dict() for b in blocks.reminder_message(current, due, RESPONDERS, LEADS)])
        assert "INC-7 escalated" in channel
        assert "2 reminder(s) unanswered" in channel
        assert f"<@{ML_LEAD}>" in channel
        assert f"<@{DATA_LEAD}>" in channel
        notice = json.dumps([b.to_dict() for b in blocks.escalation_notice(current, due, LEADS)])
        assert "<#CINC7>" in notice
        assert "Waiting on MLOps" in notice
        assert f"<@{DATA_LEAD}>" in notice
        assert blocks.escalation_text(current, due).startswith("INC-7 escalated")

    def test_user_text_is_escaped(self) -> None:
        """A title cannot ping the channel or inject a link."""
        current = incident("INC-7", channel_id="CINC7").model_copy(
            update={"title": "<!channel> <https://x|y>"}
        )
        text = json.dumps(
            [b.to_dict() for b in blocks.reminder_message(current, due_for(current, 30), {}, {})]
        )
        assert "<!channel>" not in text
        assert "&lt;!channel&gt;" in text

    def test_hundreds_of_responders_stay_within_section_limits(self) -> None:
        """A side with 300 responders is cut to Slack's 3,000 characters per section, not refused."""
        current = incident("INC-7", channel_id="CINC7")
        many = {Side.MLOPS: [f"U{n:08d}" for n in range(300)], Side.DATAOPS: DATA_USERS}
        rendered = [b.to_dict() for b in blocks.reminder_message(current, due_for(current, 30), many, LEADS)]
        assert all(len(b["text"]["text"]) <= 3000 for b in rendered if b["type"] == "section")


class TestDigestMessage:
    def test_digest_lists_are_capped_with_a_count(self) -> None:
        """25 incidents waiting: ten are listed per list, then "and 15 more"; counts stay exact."""
        many = [incident(f"INC-{n}", Severity.SEV3, T0 - timedelta(hours=n)) for n in range(25)]
        digest = build_digest(many, T0, T0.date())
        rendered = [b.to_dict() for b in blocks.digest_message(digest)]
        text = json.dumps(rendered)
        assert rendered[0]["type"] == "header"
        assert "*Waiting on MLOps (25)*" in text
        assert "and 15 more" in text
        assert "SEV3: 25" in text
        assert len(rendered) <= 50

    def test_empty_digest(self) -> None:
        """No open incidents: a header and one line."""
        rendered = [b.to_dict() for b in blocks.digest_message(build_digest([], T0, T0.date()))]
        assert [b["type"] for b in rendered] == ["header", "section"]
        assert "No open incidents" in rendered[1]["text"]["text"]

    def test_span(self) -> None:
        """Quiet time reads in minutes, hours or days."""
        assert [blocks.span(s) for s in (0, 59, 45 * 60, 2 * 3600 + 15 * 60, 3 * 86400 + 4 * 3600)] == [
            "0 min",
            "0 min",
            "45 min",
            "2 h 15 min",
            "3 d 4 h",
        ]

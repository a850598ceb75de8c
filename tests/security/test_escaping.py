"""Issue 14: the escaping functions one by one (bot/slack/escape.py), and the surfaces built with them."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.alerts import Alert, AlertStatus, alert_note
from bot.domain.decision import DecisionStatus
from bot.domain.incident import record_evidence
from bot.domain.models import Asset, AssetKind, EvidenceSource, EvidenceStatus, Severity, Side
from bot.slack import blocks
from bot.slack import escape as esc
from tests.domain.builders import NOW, decided, new_incident
from tests.security.test_escaping_property import Allowed, foreign_tokens, texts_in

HOSTILE = [
    "<!here> deploy <https://evil.example|click here>",
    "<!channel>",
    "<!everyone>",
    "<@U0BOSS>",
    "<@U0BOSS|boss>",
    "<!subteam^S0GROUP|@oncall>",
    "<#C0GENERAL|general>",
    "<https://x|y>",
    "a > b & c < d",
    "&lt;!here&gt;",
    "line one\nline two\r\n<!here>",
    "\u202eevil\u202c <!here> \u2066x\u2069",
]
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
NOBODY = Allowed(users=set(), channels=set())


def unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def no_cut_entity(text: str) -> bool:
    """Every `&` starts a whole entity (a cut `&am` or `&l` would show as garbage, or swallow what follows)."""
    return all(
        any(text.startswith(e, i) for e in ("&amp;", "&lt;", "&gt;")) for i, c in enumerate(text) if c == "&"
    )


class TestMrkdwn:
    @pytest.mark.parametrize("text", HOSTILE)
    def test_escapes_the_three_control_characters(self, text: str) -> None:
        out = esc.mrkdwn(text)
        assert "<" not in out
        assert ">" not in out
        assert no_cut_entity(out)
        assert foreign_tokens(out, NOBODY) == []
        assert unescaped(out) == text.translate(dict.fromkeys(map(ord, BIDI)))

    def test_the_issue_example(self) -> None:
        out = esc.mrkdwn("<!here> disk full <https://evil.example|click here>")
        assert out == "&lt;!here&gt; disk full &lt;https://evil.example|click here&gt;"

    def test_bidirectional_overrides_are_dropped_and_plain_marks_kept(self) -> None:
        assert esc.mrkdwn("a\u202eb\u2067c\u200fd\u200ee") == "abc\u200fd\u200ee"

    @pytest.mark.parametrize("unit", ["&", "<", ">", "<!here>", "é", "😀"])
    def test_forty_kilobytes_cut_at_the_limit_never_inside_an_entity(self, unit: str) -> None:
        text = unit * (40_000 // len(unit))
        for limit in (150, 2000, 2999, 3000, 3001):
            out = esc.mrkdwn(text, limit)
            assert len(out) <= limit
            assert out.endswith("…")
            assert no_cut_entity(out)
            assert "<" not in out


class TestCut:
    @pytest.mark.parametrize("limit", range(1, 12))
    def test_never_inside_an_entity(self, limit: int) -> None:
        out = esc.cut("ab&amp;&lt;&gt;cd", limit)
        assert len(out) <= limit
        assert no_cut_entity(out)

    def test_never_inside_a_token_the_bot_built(self) -> None:
        built = "Owners: <@U123ABC> <@U456DEF> <#C789GHI>"
        for limit in range(1, len(built)):
            out = esc.cut(built, limit)
            assert len(out) <= limit
            assert out.count("<") == out.count(">")

    def test_short_text_is_left_alone(self) -> None:
        assert esc.cut("a &amp; b", 9) == "a &amp; b"


class TestPlainText:
    @pytest.mark.parametrize("text", HOSTILE)
    def test_escaped_like_mrkdwn(self, text: str) -> None:
        out = esc.plain_text(text, 150)
        assert len(out) <= 150
        assert foreign_tokens(out, NOBODY) == []

    def test_a_plain_text_object_is_escaped_and_never_empty(self) -> None:
        assert blocks.plain("<!here>", 150).text == "&lt;!here&gt;"
        assert blocks.plain("\u202e", 150).text == "(empty)"
        assert blocks.md("").text == "_(empty)_"


class TestTopic:
    @pytest.mark.parametrize("text", HOSTILE)
    def test_one_escaped_line(self, text: str) -> None:
        out = esc.topic(text)
        assert "\n" not in out
        assert foreign_tokens(out, NOBODY) == []

    def test_forty_kilobytes_fit_in_250_without_a_cut_entity(self) -> None:
        out = esc.topic("&<" * 20_000)
        assert len(out) <= esc.TOPIC_LIMIT
        assert no_cut_entity(out)

    def test_incident_topic_keeps_state_and_owner_after_a_long_title(self) -> None:
        incident = decided().model_copy(update={"title": "<!channel> & " * 100})
        topic = blocks.topic(incident)
        assert len(topic) <= esc.TOPIC_LIMIT
        assert topic.endswith("| decided | owner: DataOps")
        assert foreign_tokens(topic, NOBODY) == []
        assert no_cut_entity(topic)


class TestFallback:
    @pytest.mark.parametrize("text", HOSTILE)
    def test_escaped(self, text: str) -> None:
        assert foreign_tokens(esc.fallback(text), NOBODY) == []

    def test_cut_at_its_limit(self) -> None:
        out = esc.fallback("<" * 40_000)
        assert len(out) <= esc.FALLBACK_LIMIT
        assert no_cut_entity(out)


class TestLinks:
    @pytest.mark.parametrize(
        "url",
        [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "mailto:a@evil.example",
            "ftp://ok.example/file",
            "/relative/path",
            "//evil.example/x",
            "ok.example/a",
            "https://",
            "https:///path",
            "https://ok.example@evil.example/",
            "https://user:pw@ok.example/",
            "https://evil.example|click here",
            "https://evil.example>x",
            "https://ok .example/",
            "https://ok.example:99999/",
            "https://ok.example:port/",
            "https://ok.example/\x00",
            "https://ok.example/" + "a" * 3000,
            "",
            None,
        ],
    )
    def test_only_absolute_http_urls_with_a_plain_host_make_links(self, url: str | None) -> None:
        assert esc.link_url(url) is None

    def test_a_breakout_attempt_is_percent_encoded(self) -> None:
        safe = esc.link_url("https://ok.example/a>x <!channel>")
        assert safe == "https://ok.example/a%3Ex%20%3C!channel%3E"
        link = esc.link("https://ok.example/a>x <!channel>", "link")
        assert link == "<https://ok.example/a%3Ex%20%3C!channel%3E|link>"
        assert (
            foreign_tokens(link, Allowed(set(), set(), typed_links={"https://ok.example/a>x <!channel>"}))
            == []
        )

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            (
                "https://grafana.example/d/x?from=now-6h&to=now",
                "https://grafana.example/d/x?from=now-6h&amp;to=now",
            ),
            ("HTTP://Ok.Example:8080/a|b", "http://ok.example:8080/a%7Cb"),
            ("https://[::1]:3000/x", "https://[::1]:3000/x"),
            ("https://ok.example/caf\u00e9", "https://ok.example/caf%C3%A9"),
            ("https://ok.example/a%20b", "https://ok.example/a%20b"),
        ],
    )
    def test_good_urls_are_kept_and_made_safe_inside_angle_brackets(self, url: str, expected: str) -> None:
        assert esc.link_url(url) == expected

    @pytest.mark.parametrize(
        "url", ["javascript:alert(1)", "data:text/html,<b>", "/relative", "https://a@b.example"]
    )
    def test_anything_else_is_shown_as_escaped_text(self, url: str) -> None:
        out = esc.link(url, "link")
        assert out.startswith("link (")
        assert foreign_tokens(out, NOBODY) == []
        assert unescaped(out) == f"link ({url})"

    def test_labels_are_escaped_and_on_one_line(self) -> None:
        out = esc.link("https://ok.example", "<!here>\nclick & go")
        assert out == "<https://ok.example|&lt;!here&gt; click &amp; go>"


class TestMentions:
    def test_known_ids_become_mentions(self) -> None:
        assert esc.user_mention("U123ABC") == "<@U123ABC>"
        assert esc.user_mention("W123ABC") == "<@W123ABC>"
        assert esc.channel_mention("C123ABC") == "<#C123ABC>"
        assert esc.mentions(["U1AB", "U2CD"]) == "<@U1AB> <@U2CD>"

    @pytest.mark.parametrize("bad", ["U1>x <!here", "mlops-oncall", "", "u123", "<!here>", "U1|x"])
    def test_anything_else_is_text(self, bad: str) -> None:
        assert foreign_tokens(esc.user_mention(bad), NOBODY) == []
        assert foreign_tokens(esc.channel_mention(bad), NOBODY) == []


# --- The surfaces the finding names -------------------------------------------------------------------------


def rendered(built: Any) -> list[str]:
    """Every rendered string of blocks, a view or a plain text."""
    if isinstance(built, str):
        return [built]
    if isinstance(built, list):
        return list(texts_in([b.to_dict() for b in built]))
    return list(texts_in(built.to_dict()))


def assert_no_foreign(
    *built: Any, users: frozenset[str] = frozenset(), links: frozenset[str] = frozenset()
) -> None:
    allowed = Allowed(users=set(users), channels={"CINC"}, typed_links=set(links))
    for item in built:
        for text in rendered(item):
            assert foreign_tokens(text, allowed) == [], text


EVIL = "<!here> x <https://evil.example|click here>"


class TestSurfaces:
    def test_repeat_alert_note(self) -> None:
        """`• Firing: <!here> …` as plain text, once escaped."""
        alert = Alert(
            source="generic", dedup_key="k", status=AlertStatus.FIRING, severity=Severity.SEV3, summary=EVIL
        )
        text = blocks.alert_updates_text("INC-1", [alert_note(alert)], all_resolved=False)
        assert "• Firing: &lt;!here&gt; x &lt;https://evil.example|click here&gt; (generic)" in text
        assert_no_foreign(text)
        assert len(blocks.alert_updates_text("INC-1", ["<!here>" * 10_000] * 40, True)) <= esc.MESSAGE_LIMIT

    def test_title_in_card_fallback_and_topic(self) -> None:
        incident = new_incident(title="<!channel> x", channel_id="CINC", description=EVIL)
        assert blocks.card_text(incident) == "INC-42 [SEV2] &lt;!channel&gt; x (open)"
        assert "&lt;!channel&gt; x" in blocks.topic(incident)
        assert_no_foreign(
            blocks.incident_card(incident, {}), blocks.topic(incident), blocks.card_text(incident)
        )

    def test_failed_asset_in_decision_text(self) -> None:
        incident = decided()
        assert incident.decision is not None
        decision = incident.decision.model_copy(
            update={"failed_asset": Asset(kind=AssetKind.TABLE, name=EVIL)}
        )
        text = blocks.decision_text(incident, decision)
        assert "&lt;!here&gt;" in text
        assert_no_foreign(
            text,
            blocks.decision_message(incident, decision),
            blocks.proposal_lines(decision, incident),
            users=frozenset({"U_ML1", "U_DATA1"}),
        )

    def test_evidence_link_cannot_break_out(self) -> None:
        incident = record_evidence(
            new_incident(),
            "dataops.volume",
            EvidenceStatus.ANOMALOUS,
            EVIL,
            EvidenceSource(kind="playbook", playbook="<!here>", run_id="r", step="<!channel>"),
            NOW,
            link="https://ok.example/a>x <!channel>",
        )
        line, _ = blocks.item_line(incident.evidence["dataops.volume"])
        assert "<https://ok.example/a%3Ex%20%3C!channel%3E|link>" in line
        allowed = Allowed(set(), set(), typed_links={"https://ok.example/a>x <!channel>"})
        assert foreign_tokens(line, allowed) == []
        assert_no_foreign(
            blocks.checklist(incident, Side.DATAOPS, ["U1AB"], ["<!here>"]),
            blocks.evidence_modal(incident, incident.evidence["dataops.volume"]),
            blocks.verdict_modal(incident, Side.DATAOPS),
            blocks.full_text("<!here>", EVIL * 2000),
            users=frozenset({"U1AB"}),
            links=frozenset({"https://ok.example/a>x <!channel>"}),
        )
        assert len(blocks.full_text("x", "&" * 40_000)) <= esc.MESSAGE_LIMIT

    def test_replies_notices_and_lists(self) -> None:
        incident = new_incident(title=EVIL, channel_id="CINC")
        assert_no_foreign(
            blocks.warning_text("There is no playbook `<!here>`."),
            blocks.opening_text(EVIL, "SEV2"),
            blocks.opened_text("INC-1", "CINC", True),
            blocks.closed_text("INC-1", "U1AB", EVIL * 3000),
            blocks.reopened_text("INC-1", "U1AB", EVIL),
            blocks.invite_failures_text({"U1AB": "<!here>"}),
            blocks.help_text("/incident"),
            blocks.incident_list([incident]),
            blocks.playbook_progress(
                EVIL, Side.DATAOPS, "INC-1", "U1AB", [("s", "k", "failed", EVIL, 1.0)], True, 2.0
            ),
            blocks.playbook_text(EVIL, "INC-1"),
            users=frozenset({"U1AB"}),
        )
        assert len(blocks.closed_text("INC-1", "U1AB", EVIL * 3000)) <= esc.MESSAGE_LIMIT

    def test_ids_from_a_payload_that_are_not_ids_are_not_mentions(self) -> None:
        incident = decided().model_copy(update={"decided_at": NOW + timedelta(minutes=5)})
        assert incident.decision is not None
        decision = incident.decision.model_copy(
            update={
                "failed_asset": Asset(kind=AssetKind.JOB, name=EVIL),
                "prevention_owner": "U1AB>x <!here",
                "confirmed_by": {Side.MLOPS: "<!channel>", Side.DATAOPS: "U1AB"},
            }
        )
        assert decision.status is DecisionStatus.AGREED
        assert_no_foreign(
            blocks.decision_message(incident, decision),
            blocks.decision_summary(incident, decision),
            users=frozenset({"U1AB"}),
        )


def test_everything_posted_for_the_issue_example_is_plain_json_safe() -> None:
    """What the finding showed, end to end through the builders: nothing but entities."""
    text = blocks.alert_updates_text(
        "INC-1", ["Firing: <!here> … <https://evil.example|click here> (generic)"], False
    )
    assert json.loads(json.dumps(text)) == text
    assert html.unescape(text).count("<!here>") == 1  # shown to people as typed, never as a mention
    assert foreign_tokens(text, NOBODY) == []

"""Hostile requests to the bot, as Hypothesis strategies: targets, credentials, bodies, framing, headers.

`cases(auth, count)` draws the same `count` cases every run (derandomized, no example database). A case is
signed (or not) when it is sent, so that a valid timestamp is fresh.
"""

from __future__ import annotations

import copy
import enum
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.http_guard import MAX_SLACK_BODY_BYTES
from bot.slack.ids import ActionId, CallbackId
from tests.security.support import BEARER, HMAC, SOURCES, hmac_headers, slack_headers
from tests.support.reference import fixture

OVER_CAP = MAX_SLACK_BODY_BYTES + 1


class Auth(enum.Enum):
    NONE = "none"  # no credentials at all
    WRONG = "wrong"  # well-formed credentials with the wrong secret
    GARBAGE = "garbage"  # hostile credential header values
    SIGNED_BAD_TIMESTAMP = "signed_bad_timestamp"  # a valid HMAC over a timestamp that is not Unix seconds
    STALE = "stale"  # correctly signed, outside the replay window
    VALID = "valid"


class Framing(enum.Enum):
    HONEST = "honest"  # httpx sets Content-Length
    CHUNKED = "chunked"  # no Content-Length
    DECLARED_HUGE = "declared_huge"  # declares 10 MB, sends a little (raw socket)
    DECLARED_LESS = "declared_less"  # declares less than it sends (raw socket)
    DECLARED_BAD = "declared_bad"  # a Content-Length that is not a number (raw socket)


@dataclass(frozen=True)
class Case:
    target: str  # "slack" or an alert source name (known or not)
    auth: Auth
    body: bytes
    framing: Framing
    timestamp: str  # used by SIGNED_BAD_TIMESTAMP; otherwise ignored
    extra: tuple[tuple[str, str], ...]  # hostile extra headers

    @property
    def path(self) -> str:
        return "/slack/events" if self.target == "slack" else f"/alerts/{self.target}"

    @property
    def authenticated(self) -> bool:
        known = self.target == "slack" or self.target in SOURCES
        return known and self.auth is Auth.VALID

    def headers(self) -> list[tuple[str, str]]:
        now = str(int(time.time()))
        headers: dict[str, str] = {}
        if self.target == "slack":
            headers = self._slack(now)
        elif self.target in HMAC:
            headers = self._hmac(now)
        else:
            token = BEARER.get(self.target, "whatever-token")
            headers = {
                Auth.VALID: {"Authorization": f"Bearer {token}"},
                Auth.WRONG: {"Authorization": f"Bearer {token}x"},
                Auth.GARBAGE: {"Authorization": self.timestamp},
            }.get(self.auth, {})
        return [*headers.items(), *self.extra]

    def _slack(self, now: str) -> dict[str, str]:
        if self.auth is Auth.VALID:
            return slack_headers(self.body, now)
        if self.auth is Auth.WRONG:
            return slack_headers(self.body, now, secret="not-the-signing-secret")
        if self.auth is Auth.STALE:
            return slack_headers(self.body, str(int(now) - 301))
        if self.auth is Auth.SIGNED_BAD_TIMESTAMP:
            return slack_headers(self.body, self.timestamp)
        if self.auth is Auth.GARBAGE:
            return {"X-Slack-Request-Timestamp": self.timestamp, "X-Slack-Signature": self.timestamp}
        return {}

    def _hmac(self, now: str) -> dict[str, str]:
        if self.auth is Auth.VALID:
            return hmac_headers(self.target, self.body, now if self.target == "generic_ts" else None)
        if self.auth is Auth.WRONG:
            return hmac_headers(self.target, self.body, now, secret="guessed-secret")
        if self.auth is Auth.STALE:
            return hmac_headers(self.target, self.body, str(int(now) - 3600))
        if self.auth is Auth.SIGNED_BAD_TIMESTAMP:
            return hmac_headers(self.target, self.body, self.timestamp)
        if self.auth is Auth.GARBAGE:
            return {"X-Handoff-Signature": self.timestamp, "X-Grafana-Alerting-Signature": self.timestamp}
        return {}


# --- Strategies ---------------------------------------------------------------------------------------------

# Header values h11 lets a client send: Latin-1 without controls, no surrounding whitespace.
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=80
)
TIMESTAMPS = st.one_of(
    st.sampled_from(["abc", "\u00b2", "\u00b9\u00b2\u00b3", "-1", "1e9", "0x1f", "1.5", "9" * 5000, "+1"]),
    HEADER_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ODD_BODIES = st.sampled_from(
    [
        b"",
        b"{",
        b"payload=%7B",
        b"payload=%5B1%5D",
        b"payload=null",
        b'payload="x"',
        b"\xff\xfe\x00",
        b"[" * 100_000,
        b'{"a":' * 30_000,
        b'{"alerts": [' + b'{"dedup_key": "k", "status": "firing", "summary": "s"},' * 2000 + b"{}]}",
        b'{"dedup_key": "\\ud800", "status": "firing", "summary": "lone surrogate"}',
        b'{"dedup_key": "k", "status": "firing", "summary": "s", "starts_at": "99999-99-99T99:99:99Z"}',
        b'{"dedup_key": "k", "status": "firing", "summary": "s", "labels": {"a": 1e999}}',
        b'{"dedup_key": "' + b"k" * 100_000 + b'", "status": "firing", "summary": "s"}',
        b"ssl_check=1&token=x",
        b'{"type": "url_verification", "challenge": "c", "token": "t"}',
        b"x" * OVER_CAP,
    ]
)


GENERIC_ALERT = {"dedup_key": "fuzz/k", "status": "firing", "summary": "s", "labels": {"model": "m"}}
GRAFANA_ALERT = {
    "receiver": "handoff",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "EndpointLatencyHigh", "endpoint": "churn-v2"},
            "annotations": {"summary": "p99 over 800 ms"},
            "startsAt": "2026-11-28T15:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "c6eadffa33fcdf37",
        }
    ],
    "groupLabels": {},
    "commonLabels": {},
    "commonAnnotations": {},
    "externalURL": "https://grafana.example/",
    "version": "1",
    "groupKey": "{}",
}


def _recorded(prefix: str) -> list[Any]:
    return [json.loads(p.read_text()) for p in sorted(fixture("alerts").glob(f"{prefix}*.json"))]


# The payloads each source accepts as they are (the recorded ones, and one of each format written out).
ACCEPTED: dict[str, list[Any]] = {
    "alertmanager": _recorded("alertmanager"),
    "great_expectations": _recorded("gx_"),
    "soda": _recorded("soda"),
    "grafana": [GRAFANA_ALERT],
    "generic": [GENERIC_ALERT, {"alerts": [GENERIC_ALERT]}],
    "generic_ts": [GENERIC_ALERT],
}


DOCUMENTS = [doc for docs in ACCEPTED.values() for doc in docs]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(doc: Any, where: int, value: Any, delete: bool) -> Any:
    """The document with one node (chosen by `where`) replaced by `value`, or deleted."""
    doc = copy.deepcopy(doc)
    paths = _paths(doc)[1:]
    if not paths:
        return value
    *parents, last = paths[where % len(paths)]
    node = doc
    for key in parents:
        node = node[key]
    if delete:
        del node[last]
    else:
        node[last] = value
    return doc


MUTATED = st.builds(
    lambda doc, where, value, delete: json.dumps(_mutate(doc, where, value, delete)).encode(),
    st.sampled_from(DOCUMENTS),
    st.integers(min_value=0, max_value=10_000),
    JSON_VALUES,
    st.booleans(),
)
SLACK_FORMS = st.builds(
    lambda fields: urlencode(fields).encode(),
    st.dictionaries(
        st.sampled_from(
            ["command", "text", "user_id", "channel_id", "team_id", "response_url", "trigger_id"]
        ),
        st.one_of(st.sampled_from(["/incident", "help", "status", "U000", "C000"]), st.text(max_size=40)),
        max_size=7,
    ),
)
PAYLOAD_TYPES = [
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "block_suggestion",
]
SLACK_PAYLOADS = st.builds(
    lambda kind, rest: urlencode({"payload": json.dumps({"type": kind, **rest})}).encode(),
    st.sampled_from(PAYLOAD_TYPES),
    st.dictionaries(
        st.sampled_from(["actions", "view", "user", "channel", "container", "team", "value"]), JSON_VALUES
    ),
)
SLACK_EVENTS = st.builds(
    lambda event: json.dumps({"type": "event_callback", "team_id": "T0", "event": event}).encode(),
    JSON_VALUES,
)
# Signed requests Bolt routes to the bot's listeners, with hostile values: commands, buttons, modal submissions.
# (No `open`/`close`: opening incidents is real work, not what this test is about.)
COMMAND_TEXT = st.one_of(
    st.sampled_from(["help", "status", "", "list", "snooze"]), st.text(max_size=40)
).filter(lambda t: not t.strip().lower().startswith(("open", "close", "reopen", "new")))
SLACK_COMMANDS = st.builds(
    lambda text, user: urlencode(
        {"command": "/incident", "text": text, "user_id": user, "channel_id": "C0", "team_id": "T0"}
    ).encode(),
    COMMAND_TEXT,
    st.text(max_size=12),
)
SLACK_CLICKS = st.builds(
    lambda action, value, user: urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "user": {"id": user},
                    "channel": {"id": "C0"},
                    "container": {"type": "message", "channel_id": "C0"},
                    "actions": [{"action_id": action, "block_id": "b", "value": value}],
                    "trigger_id": "t",
                }
            )
        }
    ).encode(),
    st.sampled_from([a.value for a in ActionId]),
    st.one_of(st.text(max_size=30), st.builds("{}|{}".format, st.text(max_size=10), st.text(max_size=10))),
    st.text(max_size=12),
)
SLACK_SUBMISSIONS = st.builds(
    lambda callback, values, metadata: urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "view_submission",
                    "user": {"id": "U0"},
                    "view": {
                        "id": "V0",
                        "callback_id": callback,
                        "private_metadata": metadata,
                        "state": {"values": values},
                    },
                }
            )
        }
    ).encode(),
    st.sampled_from([c.value for c in CallbackId]),
    JSON_VALUES,
    st.text(max_size=40),
)
BODIES = st.one_of(
    SLACK_COMMANDS,
    SLACK_CLICKS,
    SLACK_SUBMISSIONS,
    MUTATED,
    ODD_BODIES,
    SLACK_FORMS,
    SLACK_PAYLOADS,
    SLACK_EVENTS,
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
)
EXTRA_HEADERS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Content-Type",
                "X-Slack-Retry-Num",
                "X-Slack-Request-Timestamp",
                "X-Handoff-Timestamp",
                "Authorization",
                "Transfer-Encoding-X",
                "X-Forwarded-For",
                "Expect",
            ]
        ),
        HEADER_TEXT,
    ),
    max_size=2,
)
TARGETS = st.sampled_from(["slack", "slack", "slack", *SOURCES, "nope", "%00", "alertmanager%2F..%2F"])
FRAMINGS = st.sampled_from([Framing.HONEST] * 3 + list(Framing))  # mostly honest framing


def _matched(target: str, auth: Auth, doc: Any, framing: Framing, timestamp: str) -> Case:
    return Case(target, auth, json.dumps(doc).encode(), framing, timestamp, ())


def matched(auth: st.SearchStrategy[Auth]) -> st.SearchStrategy[Case]:
    """A source's own kind of payload, unchanged: accepted with valid credentials, 401 without."""
    return st.sampled_from(sorted(ACCEPTED)).flatmap(
        lambda target: st.builds(
            _matched,
            st.just(target),
            auth,
            st.sampled_from(ACCEPTED[target]),
            st.sampled_from([Framing.HONEST, Framing.CHUNKED]),
            TIMESTAMPS,
        )
    )


def cases(auth: st.SearchStrategy[Auth], count: int) -> list[Case]:
    """`count` cases, the same ones every run (derandomized; no example database)."""
    collected: list[Case] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.builds(
            Case,
            target=TARGETS,
            auth=auth,
            body=BODIES,
            framing=FRAMINGS,
            timestamp=TIMESTAMPS,
            extra=EXTRA_HEADERS.map(tuple),
        )
        | matched(auth)
    )
    def collect(case: Case) -> None:
        collected.append(case)

    collect()
    return collected

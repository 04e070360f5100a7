"""One vocabulary: the database's CHECK constraints, the dashboard's labels and the API's
document name exactly the values ``service.domain.vocabulary`` names, no more, no fewer."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import text

from service import client_import
from service.api import imports
from service.config import NAME_STYLES
from service.dashboard import LABELS, STATUS_BUTTONS
from service.dashboard.client_page import STATUS_WORDS
from service.dashboard.schedule_forms import DONE
from service.db import make_engine
from service.domain.sampling import AUTO
from service.domain.vocabulary import (
    AlertKind,
    AppointmentStatus,
    Channel,
    ChannelPreference,
    FeedTitleState,
    Intent,
    Language,
    MessageKind,
    MessageStatus,
    ResetKind,
    Role,
    TextKind,
)
from service.domain.wording import PLACEHOLDERS

# Every column the schema restricts to a word list, and the list it must be.
CONSTRAINED: dict[tuple[str, str], type[StrEnum]] = {
    ("users", "role"): Role,
    ("clients", "language"): Language,
    ("contacts", "channel"): ChannelPreference,
    ("appointments", "status"): AppointmentStatus,
    ("outbound_messages", "kind"): MessageKind,
    ("outbound_messages", "status"): MessageStatus,
    ("outbound_messages", "channel"): Channel,
    ("inbound_messages", "intent"): Intent,
    ("inbound_messages", "guess"): Intent,
    ("inbound_messages", "channel"): Channel,
    ("alerts", "kind"): AlertKind,
    ("password_resets", "kind"): ResetKind,
    ("feed_titles", "state"): FeedTitleState,
}
QUOTED = re.compile(r"'([^']*)'")


def _word_lists(database_url: str) -> dict[tuple[str, str], set[str]]:
    """The (table, column) -> values of every ``column IN (...)`` CHECK in the database."""
    engine = make_engine(database_url)
    found: dict[tuple[str, str], set[str]] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            tables = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type='table'"))
            for table, sql in tables:
                for column, values in re.findall(r"CHECK \((\w+) IN \(([^)]*)\)\)", sql or ""):
                    found[(table, column)] = set(QUOTED.findall(values))
        else:
            checks = conn.execute(
                text(
                    "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) "
                    "FROM pg_constraint WHERE contype = 'c' AND conrelid <> 0"
                )
            )
            for table, definition in checks:
                # "(kind)::text = ANY (ARRAY[...])", or "= 'sms'::text" for a list of one.
                listed = re.match(r"CHECK \(\(\(?(\w+)\)?(?:::text)? = (?:ANY|')", definition)
                if listed:
                    found[(table, listed.group(1))] = set(QUOTED.findall(definition))
    engine.dispose()
    return found


def test_every_word_list_in_the_schema_is_the_vocabulary(database_url: str) -> None:
    found = _word_lists(database_url)
    assert set(found) == set(CONSTRAINED), "a CHECK list the vocabulary does not name, or gone"
    for column, words in CONSTRAINED.items():
        assert found[column] == {str(w) for w in words}, column


def test_the_inbox_names_every_kind_of_item_and_nothing_else() -> None:
    assert set(LABELS) == set(AlertKind)
    assert all(label.strip() for label in LABELS.values())


def test_appointment_and_message_words_cover_their_statuses_exactly() -> None:
    assert set(STATUS_BUTTONS) == set(DONE) == set(AppointmentStatus)
    assert set(STATUS_WORDS) == set(MessageStatus)


def _enums(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], list[Any]]]:
    """Every ``enum`` in the OpenAPI document, with where it stands."""
    if isinstance(node, dict):
        here = [(path, node["enum"])] if "enum" in node else []
        return here + [e for k, v in node.items() for e in _enums(v, (*path, str(k)))]
    if isinstance(node, list):
        return [e for i, v in enumerate(node) for e in _enums(v, (*path, str(i)))]
    return []


def test_the_api_document_lists_the_vocabulary_where_it_lists_words() -> None:
    document = json.loads(
        (Path(__file__).parent.parent / "service" / "api" / "openapi.json").read_text()
    )
    by_name = {
        "language": Language,
        "channel": ChannelPreference,  # a contact's: how reminders and check-ins reach it
        "default_language": Language,
        "names_in_texts": NAME_STYLES,  # a setting's words, named once in service.config
        "status": None,  # appointment or message: told apart by where it stands
        "kind": MessageKind,
        "intent": Intent,
        "checkin_days": (AUTO,),  # beside a list of days: automatic check-ins
        "placeholders": tuple(PLACEHOLDERS),
        "outcome": client_import.OUTCOMES,  # what an import does with a row
        "dry_run": tuple(imports.DRY_RUN),  # the import's preview switch
    }
    checked = 0
    for path, values in _enums(document):
        words = {v for v in values if v is not None}
        if words == {True}:  # PainReport.imported: always true, not a word list
            continue
        if len(path) > 2 and path[-2] == "oneOf":  # one of a field's shapes: the field's
            path = path[:-2]
        name = path[-1] if path[-1] != "schema" else _parameter_name(document, path)
        name = path[-2] if name == "items" else name  # a list of words: named by its field
        expected = by_name[name]
        if name == "kind" and any("emplate" in part for part in path):
            expected = TextKind  # the kinds of wording, not of messages
        if name == "channel" and ("Message" in path or "Reply" in path):
            expected = Channel  # how a message went or a reply came in: a text or a call
        if expected is None:
            expected = MessageStatus if "Message" in path or "/messages" in path else None
            expected = expected or AppointmentStatus
        assert words == {str(w) for w in expected}, path
        checked += 1
    assert checked >= 10


def _parameter_name(document: dict[str, Any], path: tuple[str, ...]) -> str:
    """The name of the query parameter whose schema stands at ``path``."""
    node: Any = document
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return str(node["name"])

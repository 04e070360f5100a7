"""Logging that never shows a whole phone number, a reset link's token or a calendar
feed's token, whatever ends up in a message.

Our own log lines mask numbers already (``phones.mask``); this is the net under them:
database errors quote the values they refused (PostgreSQL: ``Key (phone)=(+1617...)``),
library tracebacks quote what they were given, and the access log writes the path of a
reset link's page or of a calendar feed.

Libraries that log the addresses they request are let through at ERROR only: urllib3
(under requests and twilio) writes the path of each request at DEBUG, redirects at INFO
and retries at WARNING, and a calendar's secret address must never reach the logs at
any level. (Feeds are fetched with ``http.client``, which logs nothing.)
"""

from __future__ import annotations

import logging
import re
import sys

from service.phones import mask

# E.164 numbers, and bare runs of 10 to 15 digits (a national number, or E.164 without +).
_NUMBER = re.compile(r"\+\d{7,15}\b|(?<![\d.:-])\d{10,15}(?![\d.:-])")
# A reset link's or calendar feed's token, as the access log writes the path of its page.
_RESET_TOKEN = re.compile(r"(/reset/|/calendar/)[^\s\"'?#/]+")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that write the addresses requested (a calendar feed's secret path among them).
QUIET = ("urllib3", "requests")


def redact(text: str) -> str:
    """``text`` with every phone-number-like run masked, and any reset link's or calendar
    feed's token."""
    return _NUMBER.sub(lambda m: mask(m.group(0)), _RESET_TOKEN.sub(r"\1[token]", text))


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, traceback included, has phone numbers and reset link
    tokens masked."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then mask."""
        # One event, one line: a traceback's lines are joined, so a platform's log router
        # (which splits on newlines) keeps it in one piece.
        return redact(super().format(record)).replace("\n", " | ")


def setup(level: int = logging.INFO) -> None:
    """Log to stdout, one line per event, through the redacting formatter (unless logging
    is set up already, e.g. by gunicorn or a test); the ``QUIET`` libraries' errors only."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=FORMAT, stream=sys.stdout)
    for handler in root.handlers:
        if handler.formatter is None or type(handler.formatter) is logging.Formatter:
            handler.setFormatter(RedactingFormatter(FORMAT))
    for name in QUIET:  # whatever ``level`` is: their lower levels quote addresses
        logging.getLogger(name).setLevel(logging.ERROR)

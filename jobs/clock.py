"""The clock process: ``python -m jobs.clock`` (forever) or ``--once`` (plan, dispatch, exit).

Jobs run in APScheduler's ``BlockingScheduler``: each coalesces missed runs into one, never
overlaps itself (``max_instances=1``), and logs one line with its counts. Every job is safe
to run in several clock processes at once, because each claims its work in the database;
the scheduler never runs inside the web process.
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from service import (
    create_app,
    feed_runs,
    health,
    logs,
    outbox,
    planner,
    practice_settings,
    replies,
    signals,
    voice_fallback,
    wording_in_force,
)
from service.config import Settings, settings_of
from service.db import get_db, utcnow
from service.dispatch import Dispatcher
from service.domain.wording import Wording
from service.sms import make_gateways

log = logging.getLogger("jobs.clock")
PLAN_EVERY_SECONDS = 300
REPLAN_EVERYONE_SECONDS = 3600
DISPATCH_EVERY_SECONDS = 30
HEARTBEAT_EVERY_SECONDS = 60
SIGNALS_EVERY_SECONDS = 300
FEEDS_EVERY_SECONDS = 60  # looks for due feeds; each is fetched every 10 minutes
FALLBACK_EVERY_SECONDS = 60  # the call after an unanswered text is queued within a minute


@dataclass
class PlanState:
    """When this clock last re-planned every client (monotonic seconds; None: never), and
    with which settings and wording."""

    everyone_at: float | None = None
    settings: Settings | None = None
    wording: Wording | None = None


def plan(app: Flask, state: PlanState | None = None) -> planner.PlanCounts:
    """Materialize series and plan their new occurrences up to the horizon; every
    ``REPLAN_EVERYONE_SECONDS``, on the first run, and when the practice's settings or the
    wording of its texts changed since the last run, re-plan every client as well.

    A save re-plans everyone itself; doing it again after one catches a client whose edit
    began before the save and so planned with the settings the save replaced.
    """
    db, started = get_db(app), time.monotonic()
    state = state or PlanState()
    with db.session() as session:
        practice_settings.hold(session)  # no save in between: the plan is the settings'
        settings = practice_settings.effective(session, settings_of(app))
        in_force = wording_in_force.current(session)
        everyone = (
            state.everyone_at is None
            or started - state.everyone_at >= REPLAN_EVERYONE_SECONDS
            or (settings, in_force) != (state.settings, state.wording)
        )
        counts = planner.plan_horizon(session, settings, utcnow(), everyone=everyone)
        session.commit()
    if everyone:
        state.everyone_at = started
    state.settings, state.wording = settings, in_force
    log.info(
        "plan%s: %d occurrences materialized, %d texts planned, %d updated, %d cancelled (%.2f s)",
        " (everyone)" if everyone else "",
        counts.materialized,
        counts.planned,
        counts.updated,
        counts.cancelled,
        time.monotonic() - started,
    )
    return counts


def dispatch(dispatcher: Dispatcher) -> Counter[str]:
    """Send what is due, after skipping the check-ins of clients who stopped answering.

    Pausing here too, and not only in the signals job, means a check-in planned in the
    meantime (an edit through the API re-plans at once) is held back within one tick.
    """
    started = time.monotonic()
    with dispatcher.db.session() as session:
        outbox.pause(session, utcnow())
        session.commit()
    counts = dispatcher.run()
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due"
    log.info("dispatch: %s (%.2f s)", summary, time.monotonic() - started)
    return counts


def heartbeat(app: Flask) -> None:
    """Record that the clock is alive, for the health check."""
    with get_db(app).session() as session:
        health.beat(session, utcnow())
        session.commit()


def raise_signals(app: Flask) -> signals.SignalCounts:
    """Raise the relief signals (gap, lapsing, not answering), queue rebooking texts, and
    pause or resume the check-ins of clients who stopped answering."""
    db, now, started = get_db(app), utcnow(), time.monotonic()
    with db.session() as session:
        settings = practice_settings.effective(session, settings_of(app))
        counts = signals.run_signals(session, settings, now)
        session.commit()
    raised = ", ".join(f"{k} {v}" for k, v in sorted(counts.raised.items())) or "no items"
    log.info(
        "signals: %s raised, %d rebooking texts, %d texts paused, %d resumed (%.2f s)",
        raised,
        counts.rebooking_texts,
        counts.paused,
        counts.resumed,
        time.monotonic() - started,
    )
    return counts


def fetch_feeds(app: Flask) -> list[feed_runs.FeedResult]:
    """Fetch the calendar feeds that are due (each claimed, so once across processes) and
    apply them to their appointments; the time is read afresh for each feed, as a pass of
    slow fetches can last minutes."""
    db, started = get_db(app), time.monotonic()
    with db.session() as session:
        settings = practice_settings.effective(session, settings_of(app))
        results = feed_runs.run_due(session, settings, utcnow)
    if results:
        failed = sum(1 for r in results if r.error is not None)
        log.info(
            "feeds: %d fetched, %d unchanged, %d failed (%.2f s)",
            len(results),
            sum(1 for r in results if r.unchanged),
            failed,
            time.monotonic() - started,
        )
    return results


def fallback_calls(app: Flask) -> voice_fallback.FallbackCounts:
    """Queue the one call after each unanswered text to a contact on texts then a call, and
    call off those a reply made needless (``service.voice_fallback``)."""
    db, started = get_db(app), time.monotonic()
    with db.session() as session:
        settings = practice_settings.effective(session, settings_of(app))
        counts = voice_fallback.run(session, settings, utcnow())
        session.commit()
    if counts.queued or counts.called_off:
        log.info(
            "fallback calls: %d queued, %d called off (%.2f s)",
            counts.queued,
            counts.called_off,
            time.monotonic() - started,
        )
    return counts


def run_once(app: Flask, dispatcher: Dispatcher) -> None:
    """Fetch calendar feeds, plan, raise signals, queue fallback calls, then dispatch, once."""
    fetch_feeds(app)
    plan(app)
    raise_signals(app)
    retry_replies(app)
    fallback_calls(app)
    dispatch(dispatcher)
    heartbeat(app)


def retry_replies(app: Flask) -> int:
    """Finish understanding replies whose processing failed when they arrived."""
    db, now = get_db(app), utcnow()
    done = 0
    with db.session() as session:
        settings = practice_settings.effective(session, settings_of(app))
        for inbound_id in replies.unprocessed(session, now - timedelta(minutes=1)):
            try:
                replies.process(session, settings, inbound_id, now, late=True)  # commits
                done += 1
            except Exception:  # leave it stored and unprocessed; the practice still sees it
                session.rollback()
                log.exception("reply %s could not be processed", inbound_id)
    if done:
        log.info("replies: %d processed late", done)
    return done


def guarded(name: str, job: Callable[..., Any]) -> Callable[..., Any]:
    """``job`` as the scheduler runs it: when the database cannot be reached, one warning
    line (the next tick tries again) instead of a traceback on every run of every job."""

    @functools.wraps(job)
    def run(*args: Any) -> Any:
        try:
            return job(*args)
        except DBAPIError as exc:
            lost = exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
            if not lost:
                raise
            log.warning(
                "%s: database unreachable (%s); next tick retries", name, type(exc).__name__
            )
            return None

    return run


def build_scheduler(app: Flask, dispatcher: Dispatcher) -> BlockingScheduler:
    """The clock's scheduler: every job coalesces, never overlaps itself, starts at once."""
    scheduler = BlockingScheduler(timezone="UTC")
    now = utcnow()
    jobs: list[tuple[str, Any, list[Any], int]] = [
        ("plan", plan, [app, PlanState()], PLAN_EVERY_SECONDS),
        ("dispatch", dispatch, [dispatcher], DISPATCH_EVERY_SECONDS),
        ("replies", retry_replies, [app], PLAN_EVERY_SECONDS),
        ("signals", raise_signals, [app], SIGNALS_EVERY_SECONDS),
        ("heartbeat", heartbeat, [app], HEARTBEAT_EVERY_SECONDS),
        ("feeds", fetch_feeds, [app], FEEDS_EVERY_SECONDS),
        ("fallback", fallback_calls, [app], FALLBACK_EVERY_SECONDS),
    ]
    for name, job, args, seconds in jobs:
        scheduler.add_job(
            guarded(name, job),
            "interval",
            seconds=seconds,
            args=args,
            id=name,
            next_run_time=now,
            coalesce=True,  # runs missed while busy or down collapse into one
            max_instances=1,  # a slow run is never joined by the next one
            misfire_grace_time=seconds,  # late by up to one period still runs
        )
    return scheduler


def run_forever(app: Flask, dispatcher: Dispatcher) -> None:
    """Run the jobs on their schedules until SIGTERM or SIGINT."""
    scheduler = build_scheduler(app, dispatcher)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the texts in hand, then stopping", signum)
        dispatcher.stop.set()  # claimed texts not yet started are handed back
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "clock started: plan every %ds, dispatch every %ds",
        PLAN_EVERY_SECONDS,
        DISPATCH_EVERY_SECONDS,
    )
    scheduler.start()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m jobs.clock``."""
    parser = argparse.ArgumentParser(prog="python -m jobs.clock", description=__doc__)
    parser.add_argument("--once", action="store_true", help="plan and dispatch once, then exit")
    args = parser.parse_args(argv)
    logs.setup()
    app = create_app()
    settings = settings_of(app)
    dispatcher = Dispatcher(get_db(app), settings, make_gateways(settings), stop=threading.Event())
    if args.once:
        run_once(app, dispatcher)
    else:
        run_forever(app, dispatcher)
    return 0


if __name__ == "__main__":
    sys.exit(main())

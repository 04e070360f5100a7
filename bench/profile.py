"""Where TouchBase's time goes in each bench's measured work, by cProfile, in one thread:

    python -m bench.profile dispatch|webhook|planning|dashboard [--database sqlite|postgresql]

Each profiles the same code path the bench measures, run sequentially in the main thread
(cProfile sees one thread), and prints the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twilio.request_validator import RequestValidator

from bench import dashboard, dispatch, planning, webhook
from bench.common import NOW, PUBLIC_BASE_URL, app_config, databases, fake_twilio, phone
from service import create_app
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.planner import plan_horizon
from service.sms import make_gateway

SORT = "cumulative"


class InlineExecutor(Executor):
    """Runs each submitted call at once, in the calling thread (which cProfile sees)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` now; a future that already holds its result or its error."""
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as exc:  # the caller reads it from the future, as from a thread
            done.set_exception(exc)
        return done


def profiled(work: Callable[[], object], top: int) -> str:
    """Run ``work`` under cProfile; the top functions by cumulative time."""
    profile = cProfile.Profile()
    profile.runcall(work)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats(SORT)
    stats.print_stats(top)
    return out.getvalue()


def profile_dispatch(kind: str, n: int, top: int) -> str:
    """Claim and send ``n`` due texts one after another in this thread."""
    with databases(kind) as dbs, fake_twilio() as fake:
        app = create_app(app_config(dbs.make("profile"), fake, 1))
        settings, db = settings_of(app), get_db(app)
        dbs.engines.append(db.engine)
        sender = Dispatcher(db, settings, {Channel.SMS: make_gateway(settings)}, now=lambda: NOW)
        dispatch.seed_due_texts(app, 0, n, NOW - timedelta(minutes=1))

        def work() -> None:
            # A batch at a time, as ``Dispatcher.run`` does, its sends made in this thread.
            while claims := sender.claim_batch("profile"):
                sender.dispatch("profile", claims, InlineExecutor())

        return profiled(work, top)


def profile_webhook(kind: str, n: int, top: int) -> str:
    """Post ``n`` signed pain replies through Flask's test client."""
    with databases(kind) as dbs:
        url = dbs.make("profile")
        webhook.seed_clients(dbs.engine(url), 500)
        app = create_app(app_config(url) | {"TWILIO_AUTH_TOKEN": webhook.AUTH_TOKEN})
        dbs.engines.append(get_db(app).engine)
        client, validator = app.test_client(), RequestValidator(webhook.AUTH_TOKEN)
        forms = [
            {"MessageSid": f"SM{i:032d}", "From": phone(i % 500), "Body": "3", "To": "+1"}
            for i in range(n)
        ]
        signed = [
            (urlencode(f), validator.compute_signature(PUBLIC_BASE_URL + webhook.PATH, f))
            for f in forms
        ]

        def work() -> None:
            for body, signature in signed:
                answer = client.post(
                    webhook.PATH,
                    data=body,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-Twilio-Signature": signature},
                )
                assert answer.status_code == 200, answer.status_code

        return profiled(work, top)


def profile_planning(kind: str, clients: int, top: int) -> str:
    """One first planner tick over ``clients`` weekly series."""
    with databases(kind) as dbs:
        app = create_app(app_config(dbs.make("profile")))
        settings, db = settings_of(app), get_db(app)
        dbs.engines.append(db.engine)
        planning.seed_series(db.engine, clients)

        def work() -> None:
            with db.session() as session:
                plan_horizon(session, settings, NOW)
                session.commit()

        return profiled(work, top)


def profile_dashboard(kind: str, clients: int, top: int) -> str:
    """The inbox and a client page, ten times each, for a practice of ``clients``."""
    with databases(kind) as dbs:
        app = create_app(app_config(dbs.make("profile")))
        dbs.engines.append(get_db(app).engine)
        dashboard.seed_practice(app, clients, clients * 100)
        browser = dashboard.sign_in(app)

        def work() -> None:
            for _ in range(10):
                browser.get("/")
                browser.get("/clients/1")

        return profiled(work, top)


def main() -> int:
    """Profile one bench's TouchBase side and print the top of the profile."""
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("bench", choices=("dispatch", "webhook", "planning", "dashboard"))
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    p.add_argument("-n", type=int, default=500, help="texts, posts or clients")
    p.add_argument("--top", type=int, default=40, help="functions to show")
    p.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime")
    args = p.parse_args()
    global SORT
    SORT = args.sort
    runner = {
        "dispatch": profile_dispatch,
        "webhook": profile_webhook,
        "planning": profile_planning,
        "dashboard": profile_dashboard,
    }[args.bench]
    print(runner(args.database, args.n, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())

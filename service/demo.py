"""The one-command demo: ``touchbase-demo`` (or ``python -m service.demo``).

It runs the whole service on this machine with nothing but Python: a SQLite database in
the instance folder, migrated and loaded with the demo practice on the first run (reused
after that; ``--reset`` starts over), texts simulated whatever the environment says, and
the web app and the clock's jobs in one process. One process is for the demo only: in a
deployment the clock is its own process (the Procfile's ``clock``), because a scheduler
inside the web process runs once per web worker.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from jobs.clock import build_scheduler
from service import accounts, create_app, logs, migrate
from service.config import settings_of
from service.db import get_db, utcnow
from service.demo_data import ADMIN_EMAIL, PASSWORD, load
from service.dispatch import Dispatcher
from service.sms import make_gateways

log = logging.getLogger("service.demo")
DATABASE_FILE = "demo.sqlite3"
SECRET_FILE = "demo-secret-key"
DISPATCH_EVERY_SECONDS = 5  # the clock's 30 s is long to wait for in a demo
THERAPIST_EMAIL = "ana@touchbase.demo"


def default_instance() -> Path:
    """The app's instance folder, where the demo keeps its database and session key."""
    return Path(Flask("service").instance_path)


def demo_config(instance: Path) -> dict[str, str]:
    """The demo's settings over the environment's: its own database, a kept session key,
    and no Twilio at all."""
    return {
        "TOUCHBASE_ENV": "development",
        "DATABASE_URL": f"sqlite:///{instance / DATABASE_FILE}",
        "SECRET_KEY": _secret_key(instance),
        # Blank whatever the environment holds: the demo's numbers are made up, and no
        # text from it may ever leave the machine.
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_FROM_NUMBER": "",
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "PUBLIC_BASE_URL": "",
        "PRACTICE_NAME": os.environ.get("PRACTICE_NAME", "").strip() or "Riverside Bodywork",
        "PRACTICE_PHONE": os.environ.get("PRACTICE_PHONE", "").strip() or "+16175550100",
    }


def _secret_key(instance: Path) -> str:
    """A session key kept in the instance folder, so a restart keeps people signed in."""
    path = instance / SECRET_FILE
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def reset(instance: Path) -> None:
    """Delete the demo database (and SQLite's side files) so the next start seeds afresh."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        (instance / (DATABASE_FILE + suffix)).unlink(missing_ok=True)


def prepare(app: Flask) -> bool:
    """Migrate the demo database and load the demo practice once; True when just loaded."""
    db, settings = get_db(app), settings_of(app)
    migrate.upgrade(db.url)
    with db.session() as session:
        if accounts.find_user(session, ADMIN_EMAIL) is not None:
            return False
        load(session, settings, utcnow())
        session.commit()
    return True


class _QuietIdle(logging.Filter):
    """Drops the dispatch job's "nothing due" line, which would otherwise come every 5 s."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "jobs.clock" and record.getMessage() == "dispatch: nothing due")


def start_clock(app: Flask, dispatcher: Dispatcher) -> BaseScheduler:
    """The clock's own jobs, in a thread of this process, dispatching every few seconds."""
    scheduler = build_scheduler(app, dispatcher)
    scheduler.reschedule_job("dispatch", trigger="interval", seconds=DISPATCH_EVERY_SECONDS)
    threading.Thread(target=scheduler.start, name="demo-clock", daemon=True).start()
    deadline = time.monotonic() + 10
    while not scheduler.running and time.monotonic() < deadline:
        time.sleep(0.01)
    return scheduler


def banner(url: str, instance: Path, loaded: bool) -> str:
    """What the terminal shows once the demo is up."""
    state = "new, demo practice loaded" if loaded else "reused; --reset starts over"
    return "\n".join(
        [
            "",
            "TouchBase demo: texts are simulated and never leave this machine.",
            f"  database         {instance / DATABASE_FILE} ({state})",
            f"  sign in as       {THERAPIST_EMAIL} / {PASSWORD}  (therapist)",
            f"                   {ADMIN_EMAIL} / {PASSWORD}  (admin: every client)",
            f"  phone simulator  {url}simulator/",
            "",
            f"TouchBase demo running at {url}  (Ctrl-C to stop)",
        ]
    )


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    # SIGTERM stops the demo the way Ctrl-C does.
    raise KeyboardInterrupt


def serve(app: Flask, server: BaseWSGIServer) -> None:
    """Serve the web app with the clock's jobs beside it until Ctrl-C or SIGTERM."""
    settings = settings_of(app)
    dispatcher = Dispatcher(get_db(app), settings, make_gateways(settings), stop=threading.Event())
    scheduler = start_clock(app, dispatcher)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        log.info("stopping: finishing the texts in hand")
        dispatcher.stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)
        server.server_close()
        get_db(app).engine.dispose()


def listen(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """A threaded server for ``app`` on host:port (0: any free port); OSError when taken."""
    # Bound here rather than by werkzeug, which prints its own advice and exits instead of
    # raising; the socket is handed over and this copy closed.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family) as sock:
        return make_server(host, port, app, threaded=True, fd=sock.fileno())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's options."""
    parser = argparse.ArgumentParser(
        prog="touchbase-demo",
        description="Run TouchBase locally with a demo practice and simulated texts.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on (0: any free port)"
    )
    parser.add_argument(
        "--instance", type=Path, help="folder for the demo database (default: the app's)"
    )
    parser.add_argument("--reset", action="store_true", help="start over with fresh demo data")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``touchbase-demo`` and ``python -m service.demo``."""
    args = parse_args(argv)
    instance = (args.instance or default_instance()).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    if args.reset:
        reset(instance)
    logs.setup()
    for handler in logging.getLogger().handlers:
        handler.addFilter(_QuietIdle())
    for noisy in ("apscheduler", "werkzeug"):  # one line per job run or request is a lot
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app = create_app({**os.environ, **demo_config(instance)})
    try:  # first, so a busy port is said at once, not after the database is made
        server = listen(app, args.host, args.port)
    except OSError as exc:
        print(
            f"touchbase-demo: cannot listen on {args.host}:{args.port} ({exc.strerror}); "
            "try --port 8001, or --port 0 for any free port",
            file=sys.stderr,
        )
        return 2
    print("preparing the demo database...", flush=True)
    try:
        loaded = prepare(app)
    except BaseException:
        server.server_close()
        raise
    url = f"http://{args.host}:{server.port}/"
    print(banner(url, instance, loaded), flush=True)
    serve(app, server)
    print("demo stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

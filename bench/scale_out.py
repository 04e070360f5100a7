"""Scale-out: 1, 2 and 4 clock processes on one PostgreSQL database, each running the clock's
own dispatch job, against a fake Twilio that answers each text after a fixed 100 ms (about
what Twilio's API takes from a US host). Texts per second as the server saw them, and each
text sent exactly once (issue 17)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.common import NOW, Databases, FakeServer, app_config
from bench.dispatch import seed_due_texts
from jobs import clock
from service import create_app
from service.config import settings_of
from service.db import Database, get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import MessageStatus
from service.models import OutboundMessage
from service.sms import make_gateways

LATENCY = 0.1  # seconds the fake takes to answer each text
CLOCKS = (1, 2, 4)
TARGET_SPEEDUP = 3.0  # 4 clocks against 1
RUN_SECONDS = 150  # a clock gives up after this, so a run that never empties its outbox ends
IDLE_SLEEP = 0.05  # between dispatch ticks that found nothing due (others hold the rest)
OPEN = (MessageStatus.PLANNED, MessageStatus.SENDING, MessageStatus.UNKNOWN)
DONE = (MessageStatus.SENT, MessageStatus.DELIVERED)


def moving_clock(origin: float) -> Callable[[], datetime]:
    """The bench's Wednesday 11:00 in New York (outside quiet hours whatever the wall clock
    says), moving on at the wall clock's pace from ``origin``, the same in every process, so
    leases and back-offs run as in production."""
    return lambda: NOW + timedelta(seconds=time.time() - origin)


def open_texts(db: Database) -> int:
    """How many texts are not finished yet: planned, being sent, or of unknown outcome."""
    with db.session() as session:
        query = select(func.count()).select_from(OutboundMessage)
        return int(session.scalar(query.where(OutboundMessage.status.in_(OPEN))) or 0)


def clock_process(
    config: dict[str, str | bool], origin: float, start: Any, results: Any, seconds: float
) -> None:
    """One clock: the app and the dispatcher made as ``jobs.clock.main`` makes them; wait for
    the other clocks, then run the clock's dispatch job until no text is left to send (the
    real clock runs it every 30 s; here a tick follows at once, after a short sleep when it
    found nothing due). Puts one result on ``results``, whatever happens."""
    try:
        app = create_app(config)
        settings = settings_of(app)
        db = get_db(app)
        dispatcher = Dispatcher(
            db,
            settings,
            make_gateways(settings),
            now=moving_clock(origin),
            stop=threading.Event(),
        )
        open_texts(db)  # connected before the start, as a clock that has been running is
        start.wait(timeout=120)
        counts: Counter[str] = Counter()
        cpu, ticks, left = time.process_time(), 0, -1
        deadline = time.monotonic() + seconds
        while left and time.monotonic() < deadline:
            tick = clock.dispatch(dispatcher)
            counts.update(tick)
            ticks += 1
            left = open_texts(db)
            if left and not tick.get("claimed"):
                time.sleep(IDLE_SLEEP)
        results.put(
            {
                "pid": os.getpid(),
                "outcomes": dict(counts),
                "ticks": ticks,
                "cpu_seconds": round(time.process_time() - cpu, 2),
                "finished": left == 0,
            }
        )
    except Exception as exc:
        start.abort()  # the others, and the bench, stop waiting for this clock
        results.put({"pid": os.getpid(), "error": f"{type(exc).__name__}: {exc}"[:500]})
        traceback.print_exc()


def run_clocks(
    config: dict[str, str | bool], clocks: int, seconds: float
) -> tuple[list[dict[str, Any]], float, float | None]:
    """Start ``clocks`` clock processes at once; what each reported, the seconds from their
    start together to the last report, and the share of the machine's CPU busy meanwhile."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(clocks + 1)  # every clock ready, then all go together
    results = context.Queue()
    origin = time.time()
    processes = [
        context.Process(
            target=clock_process, args=(config, origin, start, results, seconds), daemon=True
        )
        for _ in range(clocks)
    ]
    for process in processes:
        process.start()
    reports: list[dict[str, Any]] = []
    began, before = 0.0, (0, 0)
    try:
        start.wait(timeout=120)
        began, before = time.perf_counter(), cpu_ticks()
        for _ in processes:
            reports.append(results.get(timeout=seconds + 60))
    except threading.BrokenBarrierError:
        reports += [results.get(timeout=10) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    errors = [r["error"] for r in reports if "error" in r]
    if errors:
        raise RuntimeError(f"a clock failed: {errors[0]}")
    wall, after = time.perf_counter() - began, cpu_ticks()
    busy, total = after[0] - before[0], after[1] - before[1]
    return reports, wall, round(busy / total, 2) if total > 0 else None


def cpu_ticks() -> tuple[int, int]:
    """The machine's busy and total CPU time so far, in clock ticks (0, 0 off Linux)."""
    try:
        line = Path("/proc/stat").read_text().split("\n", 1)[0]
        # user nice system idle iowait irq softirq steal (guest time is inside user's)
        fields = [int(x) for x in line.split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    idle = sum(fields[3:5])  # idle, and idle waiting for I/O
    return sum(fields) - idle, sum(fields)


def process_cpu(pid: int) -> float:
    """CPU seconds process ``pid`` has used so far (0 when it is gone, or off Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, ValueError, IndexError):
        return 0.0


class ServerCpu:
    """The CPU seconds the PostgreSQL processes serving one database (their titles name it)
    and the fake's process use while this is open, sampled every ``every`` seconds: what
    the clocks cost the rest of the machine. Same machine, Linux only (else 0)."""

    def __init__(self, database: str, fake_pid: int, every: float = 0.25) -> None:
        """Prepare to sample; ``with`` starts and stops."""
        self.title, self.fake_pid, self.every = database.encode(), fake_pid, every
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.fake = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for entry in Path("/proc").iterdir():
            try:
                title = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
            except OSError:
                continue
            if title.startswith(b"postgres") and self.title in title:
                pid = int(entry.name)
                self.last[pid] = process_cpu(pid) or self.last.get(pid, 0.0)
                self.first.setdefault(pid, self.last[pid])

    def _run(self) -> None:
        while not self.done.wait(self.every):
            self._sample()

    def __enter__(self) -> ServerCpu:
        """Take the first sample and go on sampling in a thread."""
        self.fake = -process_cpu(self.fake_pid)
        self._sample()
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Take the last sample and stop."""
        self.done.set()
        self.thread.join()
        self._sample()
        self.fake += process_cpu(self.fake_pid)

    @property
    def postgres(self) -> float:
        """CPU seconds of the database's server processes while open."""
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def exactly_once(
    numbers: Sequence[str], sent: Sequence[tuple[str, str]], rows: Sequence[tuple[str, str | None]]
) -> dict[str, Any]:
    """Did every seeded number get its text exactly once? ``sent``: the (number, sid) pairs the
    server accepted; ``rows``: each outbox row's (status, provider sid)."""
    per_number = Counter(to for to, _ in sent)
    statuses = Counter(status for status, _ in rows)
    done = sum(statuses[s] for s in DONE)
    recorded = {sid for status, sid in rows if status in DONE}
    result = {
        "server_accepted": len(sent),
        "numbers_sent_twice": sum(1 for n in per_number.values() if n > 1),
        "numbers_never_sent": len(set(numbers) - set(per_number)),
        "numbers_not_seeded": len(set(per_number) - set(numbers)),
        "outbox_sent": done,
        "outbox_statuses": dict(sorted(statuses.items())),
        "sids_match": recorded == {sid for _, sid in sent},
    }
    wrong = ("numbers_sent_twice", "numbers_never_sent", "numbers_not_seeded")
    result["exactly_once"] = (
        len(sent) == len(numbers) == done == len(rows)
        and not any(result[k] for k in wrong)
        and bool(result["sids_match"])
    )
    return result


def span_rate(arrivals: Sequence[float]) -> tuple[float, float]:
    """Seconds from the first arrival to the last, and texts per second over them."""
    if len(arrivals) < 2:
        return 0.0, 0.0
    seconds = max(arrivals) - min(arrivals)
    return round(seconds, 3), round(len(arrivals) / seconds, 1) if seconds else 0.0


def one_run(
    dbs: Databases, fake: FakeServer, clocks: int, texts: int, concurrency: int, analyze: bool
) -> dict[str, Any]:
    """A fresh database with ``texts`` due texts, sent by ``clocks`` clock processes."""
    url = dbs.make(f"scale_{clocks}")
    config = app_config(url, fake, concurrency)
    app: Flask = create_app(config)
    db = get_db(app)
    dbs.engines.append(db.engine)
    seeded = seed_due_texts(app, 0, texts, NOW - timedelta(minutes=1))
    if analyze:  # as autovacuum does within a minute of a bulk insert (see bench/README.md)
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    fake.reset()
    with ServerCpu(make_url(url).database or "", fake.process.pid) as server:
        reports, wall, busy = run_clocks(config, clocks, RUN_SECONDS)
    with db.session() as session:
        rows = session.execute(select(OutboundMessage.status, OutboundMessage.provider_sid))
        outbox = [(str(status), sid) for status, sid in rows]
    check = exactly_once([t.to for t in seeded], fake.sent(), outbox)
    seconds, per_second = span_rate(fake.sent_at())
    clock_cpu = sum(r["cpu_seconds"] for r in reports)
    sent_by = sorted((r["outcomes"].get("sent", 0) for r in reports), reverse=True)
    return {
        "clocks": clocks,
        "texts": texts,
        "first_to_last_s": seconds,
        "per_second": per_second,
        "wall_s": round(wall, 2),  # from the clocks' start together to the last one's end
        "sent_per_clock": sent_by,
        "clock_cpu_ms_per_text": round(clock_cpu / texts * 1000, 2),
        "postgres_cpu_ms_per_text": round(server.postgres / texts * 1000, 2),
        "fake_cpu_ms_per_text": round(server.fake / texts * 1000, 2),
        # The clocks, PostgreSQL and the fake together, over the run: near the machine's
        # CPUs, the bench measures the machine rather than the latency.
        "cpus_used": round((clock_cpu + server.postgres + server.fake) / wall, 2),
        "ticks": sum(r["ticks"] for r in reports),
        "all_finished": all(r["finished"] for r in reports),
        "load_after": round(os.getloadavg()[0], 2),
        # Every process of the machine, the other users' included: near 1, the clocks,
        # PostgreSQL and the fake were short of CPU, and latency no longer dominated.
        "machine_cpu_busy": busy,
        **check,
    }


def bench_scale_out(
    dbs: Databases,
    fake: FakeServer,
    per_clock: int,
    concurrency: int,
    clock_counts: Sequence[int],
    analyze: bool = True,
    latency: float = LATENCY,
) -> dict[str, Any]:
    """Each count of clocks in a database of its own, with ``per_clock`` texts per clock, so
    every run lasts about as long and batch tails weigh the same."""
    runs = []
    for clocks in clock_counts:
        runs.append(one_run(dbs, fake, clocks, per_clock * clocks, concurrency, analyze))
        print(f"  scale-out {clocks} clocks done", file=sys.stderr, flush=True)
    one = next((r["per_second"] for r in runs if r["clocks"] == 1), 0.0)
    for r in runs:
        r["speedup"] = round(r["per_second"] / one, 2) if one else None
    # The target is 4 clocks' (without a 4-clock run, the most clocks' speedup is shown).
    most = next((r for r in runs if r["clocks"] == 4), max(runs, key=lambda r: r["clocks"]))
    met_speedup = most["clocks"] == 4 and (most["speedup"] or 0) >= TARGET_SPEEDUP
    each_once = all(r["exactly_once"] and r["all_finished"] for r in runs)
    return {
        "texts_per_clock": per_clock,
        "concurrency": concurrency,
        "latency_s": latency,  # the fake's, which the caller started
        "analyzed": analyze,
        "runs": runs,
        "target_speedup": TARGET_SPEEDUP,
        "speedup": most["speedup"],
        "speedup_clocks": most["clocks"],
        "met_speedup": met_speedup,
        "exactly_once": each_once,
        "met": met_speedup and each_once,
        "same_work": each_once,
    }


def scale_out_lines(r: dict[str, Any]) -> list[str]:
    """The scale-out bench's rows."""
    lines = [
        f"{r['texts_per_clock']} due texts per clock, concurrency {r['concurrency']} per clock,"
        f" each text answered after {r['latency_s'] * 1000:.0f} ms"
        f"{'' if r.get('analyzed', True) else ', outbox not analyzed'}",
        f"  {'clocks':>6}{'texts':>7}{'first->last s':>15}{'texts/s':>9}{'speedup':>9}"
        f"{'CPU ms/text: clocks':>21}{'PG':>6}{'fake':>6}{'CPUs':>6}{'load':>6}{'busy':>6}"
        f"  {'sent per clock':<22}exactly once",
    ]
    for x in r["runs"]:
        lines.append(
            f"  {x['clocks']:>6}{x['texts']:>7}{x['first_to_last_s']:>15.2f}"
            f"{x['per_second']:>9.1f}{x['speedup'] or 0:>9.2f}{x['clock_cpu_ms_per_text']:>21.2f}"
            f"{x['postgres_cpu_ms_per_text']:>6.2f}{x['fake_cpu_ms_per_text']:>6.2f}"
            f"{x['cpus_used']:>6.2f}{x['load_after']:>6.1f}{x['machine_cpu_busy'] or 0:>6.0%}"
            f"  {','.join(map(str, x['sent_per_clock'])):<22}{x['exactly_once']}"
        )
    lines.append(
        f"  {r['speedup_clocks']} clocks >= {r['target_speedup']}x one clock's texts/s:"
        f" {'met' if r['met_speedup'] else 'NOT met'}; every text exactly once:"
        f" {r['exactly_once']}"
    )
    return lines

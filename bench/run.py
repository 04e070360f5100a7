"""TouchBase against the bare minimum doing the same work: dispatch, webhook, planning,
dashboard, understanding, settings, sign-in, import. Each bench runs both sides in the same run and
reports their ratio. Scale-out compares 1, 2 and 4 clock processes instead.

    python -m bench.run dispatch|webhook|planning|dashboard|understanding|settings|sign-in
        |import|scale-out|all
        [--database sqlite,postgresql]

(understanding reads replies in memory: no database; planning and scale-out run on
PostgreSQL unless told otherwise, and scale-out only there.)

Results are printed as a table and merged into bench/results/latest.json (one entry per
bench and database, with the machine and the commit they were measured on).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/run.py``: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.exc import DBAPIError

from bench import (
    client_import,
    dashboard,
    dispatch,
    planning,
    scale_out,
    settings_save,
    sign_in,
    understanding,
    webhook,
)
from bench.common import RESULTS, code_version, databases, fake_twilio, machine

BENCHES = (
    "dispatch",
    "webhook",
    "planning",
    "dashboard",
    "understanding",
    "settings",
    "sign-in",
    "import",
    "scale-out",
)
# Run on PostgreSQL unless told otherwise (scale-out only there: clocks on several hosts
# cannot share one host's SQLite file).
ON_POSTGRESQL = ("planning", "scale-out")


def run_dispatch(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The dispatch bench on one database."""
    with databases(kind) as dbs, fake_twilio() as fake:
        return dispatch.bench_dispatch(dbs, fake, args.messages, args.concurrency, args.repeat)


def run_webhook(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The webhook bench on one database."""
    with databases(kind) as dbs:
        return webhook.bench_webhook(
            dbs, args.requests, args.webhook_concurrency, args.repeat, args.rate, args.rate_seconds
        )


def run_planning(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The planning bench on one database, each size in databases of its own."""
    sizes: list[dict[str, Any]] = []
    for clients in args.sizes:
        with databases(kind) as dbs:
            try:
                sizes.append(planning.bench_planning(dbs, clients))
            except DBAPIError as exc:  # a tick that fails is a result too: say why
                why = str(exc.orig or exc).splitlines()[0][:300]
                sizes.append({"clients": clients, "error": why})
            print(f"  planning {kind} {clients} clients done", file=sys.stderr, flush=True)
    done = [s for s in sizes if "error" not in s]
    steps = planning.growth(done)
    return {
        "sizes": sizes,
        "idle_growth": steps,
        # "Far slower than N": the idle tick grows by at most half as much as N does.
        "met_idle_growth": bool(steps)
        and all(s["idle_tick_grew"] <= s["n_grew"] / 2 for s in steps),
        "met_first_tick": len(done) == len(sizes) and all(s["met_first_tick"] for s in done),
        "failed_sizes": [s["clients"] for s in sizes if "error" in s],
        "same_work": all(s["same_work"] for s in done),
    }


def run_dashboard(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The dashboard bench on one database."""
    with databases(kind) as dbs:
        return dashboard.bench_dashboard(dbs, args.clients, args.replies, args.page_requests)


def run_settings(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The settings-save bench on one database, each size in databases of its own."""
    sizes: list[dict[str, Any]] = []
    for clients in args.settings_sizes:
        with databases(kind) as dbs:
            sizes.append(settings_save.bench_settings_save(dbs, clients))
        print(f"  settings {kind} {clients} clients done", file=sys.stderr, flush=True)
    return {"sizes": sizes, "same_work": all(s["same_work"] for s in sizes)}


def run_sign_in(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The sign-in bench on one database."""
    with databases(kind) as dbs:
        return sign_in.bench_sign_in(dbs, args.sign_ins, args.audit_rows, args.failed_sign_ins)


def run_import(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The client-import bench on one database."""
    with databases(kind) as dbs:
        return client_import.bench_client_import(dbs, args.import_rows)


def run_scale_out(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The scale-out bench: 1, 2 and 4 clock processes on one database each."""
    with databases(kind) as dbs, fake_twilio(latency=args.scale_latency) as fake:
        return scale_out.bench_scale_out(
            dbs,
            fake,
            args.scale_texts,
            args.concurrency,
            args.scale_clocks,
            analyze=not args.scale_unanalyzed,
            latency=args.scale_latency,
        )


def run_understanding(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The understanding bench (no database: ``kind`` is "memory")."""
    return understanding.bench_understanding(max(args.repeat, 5))


RUNNERS: dict[str, Callable[[argparse.Namespace, str], dict[str, Any]]] = {
    "dispatch": run_dispatch,
    "webhook": run_webhook,
    "planning": run_planning,
    "dashboard": run_dashboard,
    "understanding": run_understanding,
    "settings": run_settings,
    "sign-in": run_sign_in,
    "import": run_import,
    "scale-out": run_scale_out,
}


# -- the table ---------------------------------------------------------------------------------


def yes(flag: bool) -> str:
    """A target's verdict."""
    return "met" if flag else "NOT met"


def table(results: dict[str, dict[str, Any]], info: dict[str, Any]) -> str:
    """The plain-text report of this run."""
    lines = [
        f"TouchBase bench on {info['cpu']}, {info['cpus']} CPUs"
        f" (load {info['load_average_at_start']}),"
        f" Python {info['python']}, SQLite {info['sqlite']}, {info['postgresql']}",
    ]
    for key, r in results.items():
        bench, kind = key.split(":")
        lines += ["", f"== {bench} on {kind}"]
        lines += [f"  FAILED: {r['error']}"] if "error" in r else FORMATS[bench](r)
    return "\n".join(lines)


def dispatch_lines(r: dict[str, Any]) -> list[str]:
    """The dispatch bench's rows."""
    return [
        f"{r['texts']} due texts, concurrency {r['concurrency']}, best of {r['repeat']}",
        f"  texts/s: TouchBase {r['touchbase_per_second']:.0f}, bare SDK loop"
        f" {r['bare_per_second']:.0f}; ratio {r['ratio']:.2f} (median of rounds"
        f" {r['median_round_ratio']:.2f}); target >= {r['target']}: {yes(r['met'])}",
        f"  SQL statements per text {r['sql_statements_per_text']},"
        f" new DB connections per text {r['new_db_connections_per_text']};"
        f" same work: {r['same_work']}",
    ]


def webhook_lines(r: dict[str, Any]) -> list[str]:
    """The webhook bench's rows."""
    rate = r["fixed_rate_per_second"]
    lines = [
        f"{r['requests_per_run']} signed replies per run, concurrency {r['concurrency']},"
        f" gunicorn {r['gunicorn_workers']} sync workers, best of {r['repeat']}",
        f"  {'':24}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}   at {rate:.0f} req/s:"
        f"{'req/s':>7}{'p50 ms':>9}{'p99 ms':>9}",
    ]
    names = {"touchbase": "TouchBase", "bare": "bare (validate only)", "store": "bare + store row"}
    for who, name in names.items():
        s, f = r[who], r["at_fixed_rate"][who]
        lines.append(
            f"  {name:24}{s['per_second']:>8.0f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
            f"   {'':14}{f['per_second']:>7.0f}{f['p50_ms']:>9.1f}{f['p99_ms']:>9.1f}"
        )
    lines.append(
        f"  ratio to bare {r['ratio']:.3f} (to bare + store {r['ratio_to_store']:.2f}),"
        f" target >= {r['target_ratio']}: {yes(r['met_ratio'])}; p99 at {rate:.0f} req/s"
        f" < {r['target_p99_ms']:.0f} ms: {yes(r['met_p99'])}; stored {r['stored']},"
        f" same work: {r['same_work']}"
    )
    return lines


def planning_lines(r: dict[str, Any]) -> list[str]:
    """The planning bench's rows."""
    lines = [
        f"  {'clients':>8}{'appts':>8}{'first s':>9}{'appt/s':>8}{'ms/appt':>9}{'bare s':>8}"
        f"{'ratio':>7}{'idle s':>8}{'idle SQL':>9}{'bare idle ms':>13}",
    ]
    for s in r["sizes"]:
        if "error" in s:
            lines.append(f"  {s['clients']:>8}  the tick FAILED: {s['error']}")
            continue
        lines.append(
            f"  {s['clients']:>8}{s['appointments']:>8}{s['first_tick_s']:>9.2f}"
            f"{s['appointments_per_second']:>8.0f}{s['ms_per_appointment']:>9.3f}"
            f"{s['bare_first_s']:>8.2f}{s['first_tick_ratio']:>7.2f}{s['idle_tick_s']:>8.2f}"
            f"{s['idle_tick_sql_statements']:>9}{s['bare_idle_ms']:>13.1f}"
        )
    for g in r["idle_growth"]:
        lines.append(
            f"  {g['from_clients']} -> {g['to_clients']} clients (x{g['n_grew']:.0f}):"
            f" idle tick x{g['idle_tick_grew']:.1f},"
            f" its statements x{g['idle_statements_grew']:.1f}"
        )
    lines.append(
        f"  first tick >= {planning.TARGET_APPOINTMENTS_PER_SECOND} appointments/s:"
        f" {yes(r['met_first_tick'])}; idle tick grows far slower than N:"
        f" {yes(r['met_idle_growth'])}; same work: {r['same_work']}"
    )
    return lines


def dashboard_lines(r: dict[str, Any]) -> list[str]:
    """The dashboard bench's rows."""
    lines = [
        f"{r['clients']} clients, {r['replies']} replies (seeded in {r['seed_seconds']} s),"
        f" median of {r['requests_per_page']} requests",
        f"  {'page':22}{'median ms':>10}{'p90 ms':>8}{'SQL':>6}{'bare ms':>9}",
    ]
    i = r["inbox"]
    lines.append(
        f"  {'inbox /':22}{i['median_ms']:>10.1f}{i['p90_ms']:>8.1f}"
        f"{','.join(map(str, i['sql_statements'])):>6}{i['bare_median_ms']:>9.1f}"
    )
    for p in r["client_pages"]:
        lines.append(
            f"  {p['path']:22}{p['median_ms']:>10.1f}{p['p90_ms']:>8.1f}"
            f"{','.join(map(str, p['sql_statements'])):>6}{r['client_page_bare_median_ms']:>9.1f}"
        )
    lines.append(
        f"  under {r['target_ms']:.0f} ms: {yes(r['met_time'])}; constant statements per page:"
        f" {yes(r['met_constant_statements'])}"
    )
    return lines


def understanding_lines(r: dict[str, Any]) -> list[str]:
    """The understanding bench's rows."""
    return [
        f"{r['replies']} corpus replies, median of {r['repeat']} rounds",
        f"  us per reply: TouchBase {r['touchbase_us_per_reply']}, bare (one regex)"
        f" {r['bare_us_per_reply']}; ratio {r['ratio']}; under {r['target_us']:.0f} us:"
        f" {yes(r['met'])}",
    ]


def settings_lines(r: dict[str, Any]) -> list[str]:
    """The settings-save bench's rows."""
    lines = [
        f"  {'save':9}{'clients':>8}{'texts':>7}{'TB s':>8}{'SQL':>7}{'changed':>8}"
        f"{'upd':>7}{'ins':>7}{'bare s':>8}{'bare SQL':>9}{'ratio':>7}  same",
    ]
    for s in r["sizes"]:
        for name in ("offsets", "wording"):
            m = s[name]
            lines.append(
                f"  {name:9}{s['clients']:>8}{s['texts_before']:>7}{m['touchbase_s']:>8.2f}"
                f"{m['sql_statements']:>7}{m['replanned']:>8}{m['rows_updated']:>7}"
                f"{m['rows_inserted']:>7}{m['bare_s']:>8.3f}{m['bare_sql_statements']:>9}"
                f"{m['ratio']:>7.0f}  {m['same_work']}"
            )
    return lines


def sign_in_lines(r: dict[str, Any]) -> list[str]:
    """The sign-in bench's rows."""
    lines = [
        f"{r['sign_ins']} sign-ins per row, hash {r['hash_method']} (scrypt alone:"
        f" {r['scrypt_check_ms']} ms), median per sign-in",
        f"  {'':28}{'audit rows':>11}{'TB ms':>8}{'p90':>7}{'SQL':>6}{'bare ms':>9}{'ratio':>7}",
    ]
    names = {
        "password": "password",
        "two_step": "password + app code",
        "wrong_password_small_log": "wrong password, small log",
        "wrong_password_large_log": "wrong password, large log",
        "wrong_password_large_log_no_index": "  the same, no index",
    }
    for key, name in names.items():
        m = r[key]
        lines.append(
            f"  {name:28}{m.get('audit_rows_before', ''):>11}{m['touchbase_ms']:>8.2f}"
            f"{m['touchbase_p90_ms']:>7.2f}{','.join(map(str, m['sql_statements'])):>6}"
            f"{m['bare_ms']:>9.2f}{m['ratio']:>7.1f}"
        )
    plans = r["audit_plans"]
    reads = ", ".join(f"{k} {v:.3f}" for k, v in plans["read_ms"].items())
    lines += [
        f"  large/small log x{r['large_over_small']}; {plans['audit_reads']} audit-log reads,"
        f" all by the index: {plans['all_use_index']}; same work: {r['same_work']}",
        f"  the audit-log reads alone, ms: {reads}",
    ]
    return lines


FORMATS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "dispatch": dispatch_lines,
    "webhook": webhook_lines,
    "planning": planning_lines,
    "dashboard": dashboard_lines,
    "understanding": understanding_lines,
    "settings": settings_lines,
    "sign-in": sign_in_lines,
    "import": client_import.client_import_lines,
    "scale-out": scale_out.scale_out_lines,
}


# -- the command -------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""

    def numbers(value: str) -> list[int]:
        return [int(x) for x in value.split(",") if x]

    def kinds(value: str) -> list[str]:
        chosen = [x for x in value.split(",") if x]
        if not set(chosen) <= {"sqlite", "postgresql"}:
            raise argparse.ArgumentTypeError("sqlite and/or postgresql")
        return chosen

    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    p.add_argument("bench", choices=(*BENCHES, "all"))
    p.add_argument(
        "--database",
        type=kinds,
        default=None,
        help="sqlite,postgresql (default: both; planning: postgresql only)",
    )
    p.add_argument("--repeat", type=int, default=3, help="rounds per side (dispatch, webhook)")
    p.add_argument("--messages", type=int, default=5000, help="dispatch: due texts per round")
    p.add_argument("--concurrency", type=int, default=4, help="dispatch: threads, both sides")
    p.add_argument("--requests", type=int, default=2000, help="webhook: posts per round")
    p.add_argument("--webhook-concurrency", type=int, default=4, help="webhook: clients")
    p.add_argument("--rate", type=float, default=100.0, help="webhook: the fixed rate, req/s")
    p.add_argument("--rate-seconds", type=float, default=10.0, help="webhook: its duration")
    p.add_argument(
        "--sizes",
        type=numbers,
        default=[1000, 10000],
        help="planning: client counts (100k: --sizes 1000,10000,100000)",
    )
    p.add_argument(
        "--settings-sizes",
        type=numbers,
        default=[200, 1000],
        help="settings: client counts (3,000: --settings-sizes 200,1000,3000)",
    )
    p.add_argument("--sign-ins", type=int, default=100, help="sign-in: sign-ins per measure")
    p.add_argument("--audit-rows", type=int, default=100_000, help="sign-in: other audit rows")
    p.add_argument(
        "--failed-sign-ins", type=int, default=1000, help="sign-in: other emails' failures"
    )
    p.add_argument("--clients", type=int, default=2000, help="dashboard: clients")
    p.add_argument("--replies", type=int, default=200_000, help="dashboard: replies")
    p.add_argument("--page-requests", type=int, default=20, help="dashboard: requests per page")
    p.add_argument("--import-rows", type=int, default=5000, help="import: rows in the file")
    p.add_argument(
        "--scale-texts",
        type=int,
        default=750,
        help="scale-out: due texts per clock (the 4-clock run sends 4 times as many)",
    )
    p.add_argument(
        "--scale-clocks",
        type=numbers,
        default=list(scale_out.CLOCKS),
        help="scale-out: clock processes per run (the speedup is against 1)",
    )
    p.add_argument(
        "--scale-latency",
        type=float,
        default=scale_out.LATENCY,
        help="scale-out: seconds the fake takes to answer each text (issue 17: 0.1)",
    )
    p.add_argument(
        "--scale-unanalyzed",
        action="store_true",
        help="scale-out: send right after seeding, before the outbox has statistics",
    )
    p.add_argument("--output", type=Path, default=RESULTS / "latest.json", help="JSON results")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benches, print the table, merge the JSON; exit 1 if work differed."""
    args = parse(argv)
    info = machine()
    results: dict[str, dict[str, Any]] = {}
    for bench in BENCHES if args.bench == "all" else (args.bench,):
        default = ["postgresql"] if bench in ON_POSTGRESQL else ["sqlite", "postgresql"]
        if bench == "understanding":
            default = ["memory"]
        for kind in default if bench == "understanding" else args.database or default:
            if bench == "scale-out" and kind == "sqlite":
                print(
                    "skipping scale-out on sqlite: clock processes on several hosts cannot"
                    " share one host's SQLite file (PostgreSQL only)",
                    file=sys.stderr,
                    flush=True,
                )
                continue
            print(f"running {bench} on {kind} ...", file=sys.stderr, flush=True)
            key, started = f"{bench}:{kind}", datetime.now(UTC)
            info = machine()  # each bench with the load the machine had when it began
            try:
                result = RUNNERS[bench](args, kind)
            except Exception as exc:  # one broken bench must not lose the others' results
                traceback.print_exc()
                result = {"error": f"{type(exc).__name__}: {exc}"[:500], "same_work": False}
            result["measured_at"] = started.isoformat(timespec="seconds")
            results[key] = result
            # Written and shown as each bench ends, so a long run's results survive it.
            write(args.output, {key: result}, info)
            print(table({key: result}, info).split("\n", 1)[1], flush=True)
    print(table(results, info))
    return 0 if all(r.get("same_work", True) for r in results.values()) else 1


def write(path: Path, results: dict[str, dict[str, Any]], info: dict[str, Any]) -> None:
    """Merge this run's results into the JSON file, each with the machine and the code."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    code = code_version()
    for key, result in results.items():
        record[key] = {"machine": info, "code": code, "result": result}
    path.write_text(json.dumps(dict(sorted(record.items())), indent=2, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())

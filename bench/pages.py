"""The portal's pages at 10,000 items (issue 15): requests per second against a bare route.

The data set (bench/pages_data.py): 56 accounts, 12 departments, 20 inspections x 500 items =
10,000 items made through the operations (`create_item`, two measures each) and walked through
the workflow engine into every state (assigned, in progress, returned, pending review,
completed, follow-up check), with their history, evidence notes and files, measures done,
about half published, public feedback, "is it fixed?" answers and extension requests; the
audit chain then padded to --events (100,000) by bulk insertion (bench/audit_scale.py's
`pad_chain`, only what the operations did not write themselves: at 10,000 items they write
about 100,000 events, so little or nothing is padded), then ANALYZE. A small data set of
--small-items (100) items is built the same way, with events in proportion, over as many
inspections (20 x 5 items): the same pages with fewer items.

On SQLite (the default) each data set is built once into --cache (instance/bench-cache/,
ignored by git), keyed by its parameters, the migrations' head and the builder's source, and
each run works on a temporary copy. On PostgreSQL (--database-url) each data set has a database
of its own (the URL's name with _small or _large), recreated and dropped at the end.

SQL statements per request are counted in-process (a SQLAlchemy before_cursor_execute
listener, the Flask test client signed in as the page's role) at both sizes: the second
request of each page (caches warm, as under load), and in brackets the first when it differs;
then --in-process-requests more are timed (median ms), the two sets' requests alternating so
that the machine's drift falls on both alike. Both with the page caches off: each page
rendered, as for the first visitor after a write (the figures kept for the state of the data,
portal.core.cache, are warm from the first request, as they are for the next page opened).

Then gunicorn (2 sync workers, on loopback) serves the large data set with a bare route,
`/bench/bare`, in the same app; wrk (8 connections, 2 threads) drives each page for --seconds
right after the bare route for --bare-seconds, over --rounds rounds. The bare route is asked
without a cookie; each page with its role's session cookie. The table gives each page's rps
and latency percentiles (medians over the rounds) and the ratio page rps / bare rps of the
same round (median over the rounds). Signed-in pages are served as in production, from the
page cache (portal.core.http_cache.private_page) once rendered; --no-private-cache renders them
for every request. The workers' resident memory is read from /proc after the run.

    .venv/bin/python bench/pages.py                                   # 10k items, 100k events
    .venv/bin/python bench/pages.py --items 200 --events 2000 --seconds 1 --bare-seconds 1
    .venv/bin/python bench/pages.py --database-url postgresql://postgres@127.0.0.1:5432/test_pages_bench

Exits non-zero when wrk is missing, a page does not answer 200 or wrk sees an error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pages_data  # noqa: E402

BIN = ROOT / ".venv" / "bin"
ENV_URL, ENV_INSTANCE = "PAGES_BENCH_DATABASE_URL", "PAGES_BENCH_INSTANCE"
ENV_PRIVATE_CACHE = "PAGES_BENCH_PRIVATE_CACHE"
WORKERS, CONNECTIONS, THREADS = 2, 8, 2
BARE = ("bare", None, "/bench/bare")
#: (label, role signed in or None for the public, path with {inspection} {public_item} {staff_item})
PAGES = (
    ("public list", None, "/public/"),
    ("public inspection", None, "/public/inspections/{inspection}"),
    ("public item", None, "/public/items/{public_item}"),
    ("public notice", None, "/public/inspections/{inspection}/notice"),
    ("staff item page", "staff", "/items/{staff_item}"),
    ("office inspection", "office", "/inspections/{inspection}"),
    ("home office", "office", "/"),
    ("home leader", "leader", "/"),
    ("home staff", "staff", "/"),
    ("home auditor", "auditor", "/"),
    ("wl my_items", "staff", "/worklists/my_items"),
    ("wl awaiting_review", "leader", "/worklists/awaiting_review"),
    ("wl overdue", "office", "/worklists/overdue"),
    ("wl due_soon", "office", "/worklists/due_soon"),
    ("wl follow_up_checks", "office", "/worklists/follow_up_checks"),
    ("wl moderation_queue", "office", "/worklists/moderation_queue"),
    ("wl extensions", "office", "/worklists/extensions_to_decide"),
    ("audit log", "auditor", "/audit/"),
    ("dashboard", "office", "/dashboard"),
)
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not200 = 0 end
function response(status, headers, body) if status ~= 200 then not200 = not200 + 1 end end
done = function(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("not200") end
  io.write(string.format("p50_us %d\\np95_us %d\\np99_us %d\\nrequests %d\\nduration_us %d\\n",
    latency:percentile(50.0), latency:percentile(95.0), latency:percentile(99.0),
    summary.requests, summary.duration))
  io.write(string.format("errors %d\\nnot200 %d\\n", summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout + summary.errors.status, bad))
end
"""


def log(message: str) -> None:
    print(message, flush=True)


def app_config(url: str, instance: str, private_cache: bool = True) -> dict:
    return {
        # off: every signed-in page rendered for each request (--no-private-cache)
        "PRIVATE_PAGE_CACHE": private_cache,
        "CONFIG": "production",
        # pages are measured, not the second sign-in step (production requires it)
        "MFA_REQUIRED_ROLES": (),
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": instance,
        "SQLALCHEMY_DATABASE_URI": url,
    }


def make_served_app():
    """The WSGI app gunicorn serves: the portal on the bench database, plus a bare route."""
    from portal import create_app

    private_cache = os.environ.get(ENV_PRIVATE_CACHE, "1") == "1"
    app = create_app(app_config(os.environ[ENV_URL], os.environ[ENV_INSTANCE], private_cache))
    app.add_url_rule(
        "/bench/bare", "bench_bare", lambda: ("bare", 200, {"Content-Type": "text/plain; charset=utf-8"})
    )
    return app


# --- the data sets --------------------------------------------------------------------------


def drop_postgres_database(url: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    admin.dispose()


def build_into(url: str, instance: str, items: int, per: int, events: int, args) -> dict:
    from benchdb import migrated_app

    t0 = time.perf_counter()
    app = migrated_app(url, instance)
    migrate_s = time.perf_counter() - t0
    info = pages_data.build(app, url, items, per, events, args.seed, log)
    info["times"]["migrate"] = migrate_s
    info["times"]["total"] = time.perf_counter() - t0
    return info


def describe(label: str, items: int, info: dict, cached: bool) -> None:
    t = info["times"]
    log(
        f"  {label}: {items:,} items, {info['events_from_operations']:,} events from the operations "
        f"+ {info['events_padded']:,} padded; {'cached, ' if cached else ''}built in {t['total']:.1f} s "
        f"(migrate {t['migrate']:.1f}, operations {t['operations']:.1f}, padding {t['padding']:.1f}, "
        f"analyze {t['analyze']:.1f})"
    )
    log(f"    made: {json.dumps(info['counts'], ensure_ascii=False, sort_keys=True)}")


def sqlite_dataset(items: int, per: int, events: int, args, workdir: str) -> tuple[str, str, dict, bool]:
    """A working copy of the cached data set (built first if missing): (url, instance, info, cached)."""
    key = (
        f"pages-{items}i-{per}per-{events}e-seed{args.seed}-"
        f"{pages_data.head_revision()}-{pages_data.source_hash()}"
    )
    cache = Path(args.cache) / key
    cached = (cache / "build.json").exists()
    if not cached and args.no_cache:
        instance = Path(workdir) / key
        instance.mkdir()
        info = build_into(f"sqlite:///{instance}/bench.db", str(instance), items, per, events, args)
        return f"sqlite:///{instance}/bench.db", str(instance), info, False
    if not cached:
        log(f"  building {items:,} items / {events:,} events into {cache}")
        building = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=Path(args.cache)))
        try:
            info = build_into(f"sqlite:///{building}/bench.db", str(building), items, per, events, args)
            (building / "build.json").write_text(json.dumps(info))
            shutil.rmtree(cache, ignore_errors=True)
            building.rename(cache)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    instance = Path(workdir) / key
    shutil.copytree(cache, instance)
    return (
        f"sqlite:///{instance}/bench.db",
        str(instance),
        json.loads((cache / "build.json").read_text()),
        cached,
    )


# --- SQL statements per request, in-process -------------------------------------------------


def sign_in_test_client(app, role: str):
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    if page.status_code != 200 or token is None:
        raise SystemExit(f"GET /login answered {page.status_code} without a csrf_token (in-process)")
    answer = client.post(
        "/login",
        data={
            "csrf_token": token.group(1),
            "login": pages_data.LOGINS[role],
            "password": pages_data.PASSWORD,
        },
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
        raise SystemExit(f"signing in as {role} failed in-process: {answer.status_code}")
    return client


def in_process(sets: dict[str, tuple[str, str, list]], repeat: int) -> dict[str, dict]:
    """For each data set (name -> (url, instance, pages)): label -> (statements of the second
    request, of the first, median ms of `repeat` more), each page rendered for each request
    (the page caches off: what the first visitor after a write waits for), through the Flask
    test client. The sets' requests alternate, page by page (small, large, large, small, …), so
    that a drift of the machine's speed falls on both alike."""
    import sqlalchemy as sa

    from portal import create_app
    from portal.core.extensions import db

    names = list(sets)
    apps, engines, clients, statements = {}, {}, {}, {name: [0] for name in names}
    for name, (url, instance, _pages) in sets.items():
        app = create_app({**app_config(url, instance, private_cache=False), "PUBLIC_PAGE_CACHE": False})
        app.add_url_rule("/bench/bare", "bench_bare", lambda: "bare")
        apps[name], clients[name] = app, {None: app.test_client()}
        with app.app_context():
            engines[name] = db.engine

    def counter(name):
        def count(*_args):
            statements[name][0] += 1

        return count

    listeners = {name: counter(name) for name in names}

    def get(name, label, role, path):
        if role not in clients[name]:
            clients[name][role] = sign_in_test_client(apps[name], role)
        answer = clients[name][role].get(path, base_url="https://localhost")
        if answer.status_code != 200:
            raise SystemExit(
                f"{label}: GET {path} answered {answer.status_code} in-process "
                f"(as {role or 'public'}, {name} set)"
            )

    measured: dict[str, dict] = {name: {} for name in names}
    for name in names:
        sa.event.listen(engines[name], "before_cursor_execute", listeners[name])
    try:
        for index, (label, role, _path) in enumerate(sets[names[0]][2]):
            seen: dict[str, list[int]] = {name: [] for name in names}
            times: dict[str, list[float]] = {name: [] for name in names}
            for name in names:
                path = sets[name][2][index][2]
                for _ in range(2):
                    statements[name][0] = 0
                    get(name, label, role, path)
                    seen[name].append(statements[name][0])
            for turn in range(repeat):
                for name in names if turn % 2 == 0 else reversed(names):
                    t0 = time.perf_counter()
                    get(name, label, role, sets[name][2][index][2])
                    times[name].append((time.perf_counter() - t0) * 1000)
            for name in names:
                measured[name][label] = (seen[name][1], seen[name][0], statistics.median(times[name]))
    finally:
        for name in names:
            sa.event.remove(engines[name], "before_cursor_execute", listeners[name])
            with apps[name].app_context():
                db.engine.dispose()
    return measured


# --- serving and measuring ------------------------------------------------------------------


@contextlib.contextmanager
def served(url: str, instance: str, private_cache: bool, master: list[int]):
    """gunicorn, WORKERS sync worker(s), serving make_served_app() on a free port; yields the port
    (and puts the master's pid in `master`)."""
    from benchdb import gunicorn_serving

    env = {ENV_URL: url, ENV_INSTANCE: instance, ENV_PRIVATE_CACHE: "1" if private_cache else "0"}
    with gunicorn_serving(
        "pages:make_served_app()", env, Path(instance) / "gunicorn.log", WORKERS, 90, master
    ) as port:
        yield port


def run_wrk(wrk: str, port: int, path: str, cookie: str, seconds: float, script: Path) -> dict:
    command = [wrk, "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "30s"]
    command += ["-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run(  # noqa: S603
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=False
    )
    figures = {k: int(v) for k, v in re.findall(r"^(\w+) (\d+)$", done.stdout, re.M)}
    if done.returncode != 0 or not figures.get("requests") or not figures.get("duration_us"):
        raise SystemExit(f"wrk failed on {path} (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    if figures["errors"] or figures["not200"]:
        raise SystemExit(
            f"GET {path}: wrk saw {figures['not200']} answers other than 200 and {figures['errors']} "
            f"errors in {figures['requests']} requests"
        )
    return {
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50": figures["p50_us"] / 1000,
        "p95": figures["p95_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
    }


def measure(url: str, instance: str, pages: list, args, wrk: str) -> tuple[dict, list[float]]:
    """(label -> list of per-round figures, each page's with the ratio to the bare route before
    it; the workers' resident memory in MiB after the run)."""
    from audit_scale import Client
    from benchdb import workers_rss_mib

    script = Path(instance) / "pages.lua"
    script.write_text(WRK_SCRIPT)
    results: dict[str, list[dict]] = {label: [] for label, _r, _p in [BARE, *pages]}
    master: list[int] = []
    with served(url, instance, args.private_cache, master) as port:
        cookies = {None: ""}
        for role in sorted({r for _l, r, _p in pages if r}):
            client = Client(port)
            client.sign_in(pages_data.LOGINS[role], pages_data.PASSWORD)
            # the home page shows (and so ends) the "signed in" message, as a browser's first
            # page does: a cookie still holding it would be a page with a message every time
            client.request("GET", "/")
            cookies[role] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        for label, role, path in pages:
            client = Client(port)
            client.cookies = dict(c.split("=", 1) for c in cookies[role].split("; ") if c)
            status, _body, _headers = client.request("GET", path)
            if status != 200:
                raise SystemExit(
                    f"{label}: GET {path} answered {status} under gunicorn (as {role or 'public'})"
                )
        log(
            f"  gunicorn on 127.0.0.1:{port}, {WORKERS} sync workers; wrk {CONNECTIONS} connections, "
            f"{THREADS} threads; per round each page {args.seconds} s after the bare route "
            f"{args.bare_seconds} s; {args.rounds} rounds"
        )
        for n in range(args.rounds):
            t0 = time.perf_counter()
            for label, role, path in pages:
                bare = run_wrk(wrk, port, BARE[2], "", args.bare_seconds, script)
                page = run_wrk(wrk, port, path, cookies[role], args.seconds, script)
                page["ratio"] = page["rps"] / bare["rps"]
                results[BARE[0]].append(bare)
                results[label].append(page)
            log(f"    round {n + 1}/{args.rounds} done in {time.perf_counter() - t0:.0f} s")
        rss = workers_rss_mib(master[0])
    return results, rss


# --- the report -----------------------------------------------------------------------------


def sql_cell(counts: dict | None, label: str) -> str:
    if counts is None or label not in counts:
        return "-"
    warm, first, _ms = counts[label]
    return f"{warm}" if warm == first else f"{warm} ({first})"


def time_cells(small: dict, large: dict, label: str) -> str:
    if label not in small or label not in large:
        return f"{'-':>7} {'-':>7} {'-':>5}"
    few, many = small[label][2], large[label][2]
    return f"{few:7.1f} {many:7.1f} {many / few:5.2f}"


def table(pages: list, results: dict, small: dict, large: dict, sizes: tuple[int, int]) -> None:
    small_h, large_h = f"SQL@{sizes[0]:,}", f"SQL@{sizes[1]:,}"
    head = f"{'page':<20} {'as':<8} {'rps':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'ratio':>6}"
    times = f"{'ms@' + format(sizes[0], ','):>7} {'ms@' + format(sizes[1], ','):>7} {'x':>5}"
    log(f"\n{head} {small_h:>10} {large_h:>11} {times}")
    for label, role, _path in [BARE, *pages]:
        rounds = results[label]

        def med(key, rounds=rounds):
            return statistics.median(r[key] for r in rounds)

        ratio = "" if label == BARE[0] else f"{med('ratio'):6.3f}"
        log(
            f"{label:<20} {role or 'public':<8} {med('rps'):8.1f} {med('p50'):8.1f} {med('p95'):8.1f} "
            f"{med('p99'):8.1f} {ratio:>6} {sql_cell(small, label):>10} {sql_cell(large, label):>11} "
            f"{time_cells(small, large, label)}"
        )
    log(
        "\nrps and percentiles: medians over the rounds; ratio: page rps / bare rps of the same round "
        "(median); SQL: statements of a request with caches warm (the first request's in brackets); "
        "ms: in-process time of a request (median), and x their ratio. SQL and ms are of pages "
        "rendered for each request (the page caches off), through the Flask test client."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000, help="audit events in all (padded up to)")
    parser.add_argument("--per-inspection", type=int, default=500)
    parser.add_argument("--small-items", type=int, default=100)
    parser.add_argument("--small-events", type=int, help="default: --events in proportion")
    parser.add_argument("--seconds", type=int, default=5, help="wrk on each page, per round")
    parser.add_argument("--bare-seconds", type=int, default=2, help="wrk on the bare route before each page")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", help="only the pages whose label contains one of these (comma-separated)")
    parser.add_argument("--database-url", help="PostgreSQL (recreated for each data set, dropped at the end)")
    parser.add_argument("--cache", default=str(ROOT / "instance" / "bench-cache"), help="SQLite data sets")
    parser.add_argument(
        "--no-cache", action="store_true", help="build SQLite data sets in a temporary folder"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--in-process-requests", type=int, default=15, help="timed per page and size")
    parser.add_argument(
        "--private-cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="signed-in pages from the page cache under load (--no-private-cache: rendered each time)",
    )
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(
            "wrk is missing: install Debian's wrk (apt-get install wrk); it should be /usr/bin/wrk"
        )
    if args.rounds < 1 or args.seconds <= 0 or args.bare_seconds <= 0:
        raise SystemExit("--rounds, --seconds and --bare-seconds must be positive")
    small_events = args.small_events or max(1, args.events * args.small_items // max(args.items, 1))
    pages = list(PAGES)
    if args.pages:
        wanted = [w.strip() for w in args.pages.split(",") if w.strip()]
        pages = [p for p in PAGES if any(w in p[0] for w in wanted)]
        if not pages:
            raise SystemExit(f"no page matches {args.pages!r}")
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="rectify-bench-pages-")
    url = args.database_url
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        if not url.startswith("postgresql+psycopg://"):
            raise SystemExit("--database-url must be a postgresql:// URL")
    try:
        log(f"database: {'PostgreSQL ' + url.rsplit('/', 1)[1] if url else 'SQLite (a temporary copy)'}")
        sets = {}
        # the small set has as many inspections as the large one, each smaller: the same pages
        # with fewer items, so that what grows with the items shows
        inspections = max(1, -(-args.items // args.per_inspection))
        small_per = max(1, -(-args.small_items // inspections))
        for name, items, per, events in (
            ("small", args.small_items, small_per, small_events),
            ("large", args.items, args.per_inspection, args.events),
        ):
            if url:  # a database of its own for each set, both dropped at the end
                set_url = f"{url}_{name}"
                instance = tempfile.mkdtemp(prefix=f"{name}-", dir=workdir)
                info, cached = build_into(set_url, instance, items, per, events, args), False
            else:
                set_url, instance, info, cached = sqlite_dataset(items, per, events, args, workdir)
            describe(name, items, info, cached)
            targets = pages_data.targets(pages_data_app(set_url, instance))
            resolved = [(label, role, path.format(**targets)) for label, role, path in pages]
            sets[name] = (set_url, instance, resolved)
            log(f"    pages use {targets}")
        counts = in_process(sets, args.in_process_requests)
        log(
            f"  SQL statements counted and pages timed in-process at {args.small_items:,} and "
            f"{args.items:,} items, the two sets' requests alternating"
        )
        set_url, instance, resolved = sets["large"]
        results, rss = measure(set_url, instance, resolved, args, wrk)
        table(resolved, results, counts["small"], counts["large"], (args.small_items, args.items))
        served_as = "from the page cache" if args.private_cache else "rendered each time"
        log(
            f"signed-in pages under load: {served_as}; "
            f"worker RSS after the run: {', '.join(f'{m:.0f}' for m in rss)} MiB"
        )
    finally:
        if url:
            for name in ("small", "large"):
                drop_postgres_database(f"{url}_{name}")
        shutil.rmtree(workdir, ignore_errors=True)


def pages_data_app(url: str, instance: str):
    from portal import create_app

    return create_app(app_config(url, instance))


if __name__ == "__main__":
    main()

"""Audit log at scale: 1,000,000 events, `flask audit verify` and the audit log page's p95.

Targets: `flask audit verify` on 1M events under 10 s (timed as a subprocess, start-up included;
`--chain-only` is timed too, to show the share of the state replay and evidence re-hashing); the
audit log page (newest, each filter, a deep keyset page) p95 under 100 ms. The pages are served
by gunicorn (1 sync worker) from an app that also has a bare route, `/bench/bare`, served the
same way in the same run: the ratio p95(page) / p95(bare) is printed beside each figure.

The database: real documents made through the operations (3 inspections x 100 items with 3
measures each, ~50 accounts, a third of the items walked through start → submit → approve with
a PDF evidence file), with the audit clock set back a year so that `at` grows with `seq`; then
the chain padded to --events with synthetic events (auth.login, auth.login_failed,
measure.done/undone, item.update), bulk-inserted in batches of 10,000 with the hash chain
continued, each item.update with its document version and, at the end, every item's title and
every measure's status left as the events say, so that the reconciliation finds nothing; then
ANALYZE.

    .venv/bin/python bench/audit_scale.py                          # SQLite and PostgreSQL, 1M
    .venv/bin/python bench/audit_scale.py --db sqlite --events 100000 --requests 100
    .venv/bin/python bench/audit_scale.py --db sqlite --keep       # keep the database file

PostgreSQL: DATABASE_URL, or postgresql://postgres@127.0.0.1:5432/rectify_bench (recreated).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/rectify_bench"
BIN = ROOT / ".venv" / "bin"
AUDITOR, AUDITOR_PASSWORD = "auditor", "bench-audit-1"
BATCH = 10_000
VERIFY_TARGET_S, PAGE_TARGET_MS = 10.0, 100.0
# How the served app (a separate gunicorn process) finds the bench database.
ENV_URL, ENV_INSTANCE = "AUDIT_SCALE_DATABASE_URL", "AUDIT_SCALE_INSTANCE"


# --- the served app -------------------------------------------------------------------------


def make_served_app():
    """The WSGI app gunicorn serves: the portal on the bench database, plus a bare route."""
    from portal import create_app

    app = create_app(
        {
            "CONFIG": "production",
            # pages are measured, not the second sign-in step (production requires it)
            "MFA_REQUIRED_ROLES": (),
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": os.environ[ENV_INSTANCE],
            "SQLALCHEMY_DATABASE_URI": os.environ[ENV_URL],
        }
    )
    app.add_url_rule(
        "/bench/bare", "bench_bare", lambda: ("bare", 200, {"Content-Type": "text/plain; charset=utf-8"})
    )
    return app


# --- building the database ------------------------------------------------------------------


class AuditClock:
    """Stands in for portal.audit.chain.utcnow while the documents are made: a year ago, on."""

    def __init__(self, start: datetime, step: timedelta = timedelta(milliseconds=250)):
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def build_documents(app, rng: random.Random, start: datetime) -> None:
    """Accounts, inspections, items and measures, some walked through the workflow; committed."""
    from portal.accounts.operations import create_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.core.transitions import fire
    from portal.demo.cli import DEMO_PDF
    from portal.evidence.operations import add_evidence_file, add_evidence_note
    from portal.evidence.storage import FileStore
    from portal.inspections.operations import (
        create_category,
        create_inspection,
        create_item,
        set_measure_done,
    )

    actor = Actor.system("bench")
    with app.app_context(), mock.patch("portal.audit.chain.utcnow", AuditClock(start)):

        def make(login: str, name: str, roles: list[str]):
            return create_user(actor, login=login, display_name=name, password="bench-pass-1", roles=roles)

        staff = [make(f"staff{n:02d}", f"经办人{n}", ["staff"]) for n in range(1, 31)]
        leaders = [make(f"leader{n:02d}", f"领导{n}", ["leader"]) for n in range(1, 11)]
        for n in range(1, 9):
            make(f"office{n:02d}", f"督办{n}", ["office"])
        create_user(actor, login=AUDITOR, display_name="审计员", password=AUDITOR_PASSWORD, roles=["auditor"])
        make("admin", "管理员", ["admin"])
        db.session.commit()

        store = FileStore(app.config["EVIDENCE_DIR"])
        extensions = app.config["EVIDENCE_EXTENSIONS"]
        for i in range(1, 4):
            inspection = create_inspection(actor, title=f"第{i}轮巡察整改", inspected_unit=f"被巡察单位{i}")
            categories = [
                create_category(actor, inspection, label=label, title=f"类别{label}", position=p)
                for p, label in enumerate(("一", "二", "三", "四"), start=1)
            ]
            for n in range(100):
                worker, leader = rng.choice(staff), rng.choice(leaders)
                item = create_item(
                    actor,
                    inspection,
                    category=categories[n % 4],
                    number=str(n + 1),
                    title=f"问题{i}-{n + 1}：制度执行不到位",
                    responsible_leader=leader,
                    staff=worker,
                    completion_summary="已按整改方案落实。",
                    deadline=date(2026, 6, 30),
                    measures=[(label, f"措施{label}{n + 1}", None) for label in ("一是", "二是", "三是")],
                )
                as_staff = Actor.of(worker)
                if n % 3 == 0:
                    add_evidence_file(as_staff, item, store, io.BytesIO(DEMO_PDF), "整改报告.pdf", extensions)
                    for measure in item.measures:
                        set_measure_done(as_staff, measure, True)
                    for user, transition in ((worker, "start"), (worker, "submit"), (leader, "approve")):
                        fire(Actor.of(user), item, transition, comment="整改完成")
                elif n % 3 == 1:
                    add_evidence_note(as_staff, item, "材料已归档。")
                    set_measure_done(as_staff, item.measures[0], True)
                    fire(Actor.of(worker), item, "start")
            db.session.commit()
        db.engine.dispose()


def pad_chain(app, total: int, rng: random.Random, end: datetime) -> dict:
    """Append synthetic events up to `total`, continuing the chain; return what the URLs use."""
    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.audit.chain import canonical_json, canonical_row, chain_head, compute_hash
    from portal.audit.models import AuditEvent
    from portal.core.extensions import db
    from portal.inspections.models import Measure, RectificationItem
    from portal.versions.models import DocumentVersion

    with app.app_context():
        head_seq, head_hash = chain_head()
        last_at = db.session.scalar(sa.select(AuditEvent.at).where(AuditEvent.seq == head_seq))
        users = db.session.execute(sa.select(User.id, User.login).order_by(User.id)).all()
        items = db.session.execute(
            sa.select(
                RectificationItem.id, RectificationItem.inspection_id, RectificationItem.title
            ).order_by(RectificationItem.id)
        ).all()
        measures = db.session.execute(
            sa.select(Measure.id, Measure.item_id, Measure.label, RectificationItem.inspection_id)
            .join(RectificationItem, Measure.item_id == RectificationItem.id)
            .order_by(Measure.id)
        ).all()
        # each item's newest version: the padding's edits continue from it, as the app's would
        newest = {}
        for oid, number, data in db.session.execute(
            sa.select(DocumentVersion.object_id, DocumentVersion.number, DocumentVersion.data)
            .where(DocumentVersion.object_type == "item")
            .order_by(DocumentVersion.object_id, DocumentVersion.number)
        ):
            newest[oid] = (number, data)
        db.session.rollback()

        count = total - head_seq
        info = {"head_before": head_seq, "synthetic": max(count, 0), "inspection": items[0].inspection_id}
        if count <= 0:
            info.update(actor=users[0].login, item=items[0].id)
            return info

        # Who acts: ~50 logins, a few much busier than the rest (a Zipf-like spread).
        people = [u for u in users if u.login != AUDITOR]
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(people))]
        rng.shuffle(people)
        ips = {
            u.id: f"10.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for u in people
        }
        login_payload = {u.id: canonical_json({"login": u.login, "remote_addr": ips[u.id]}) for u in people}
        failed_payload = {
            u.id: canonical_json({"login": u.login, "remote_addr": ips[u.id], "reason": "bad_credentials"})
            for u in people
        }
        done_payload = {
            (m.id, d): canonical_json({"item_id": m.item_id, "label": m.label, "done": d})
            for m in measures
            for d in (True, False)
        }
        titles = {it.id: it.title for it in items}
        # items made in bulk (bench/supervise.py) have no stored version: their edits add none
        versions = {it.id: newest.get(it.id, (1, None))[0] for it in items}
        snapshots = {it.id: newest.get(it.id, (1, None))[1] for it in items}
        status = {}  # measure id -> its status after the padding's done/undone events
        bumps = Counter()  # item id -> edits and measure changes: each claims the item's version
        actions = ("auth.login", "auth.login_failed", "measure.done", "measure.undone", "item.update")
        action_weights = (25, 3, 22, 8, 42)

        span_us = (end - last_at) / timedelta(microseconds=1)
        step_us = span_us / (count + 1)
        if step_us < 2:
            raise SystemExit(f"{count} events do not fit between {last_at} and {end}")
        insert, insert_versions = sa.insert(AuditEvent.__table__), sa.insert(DocumentVersion.__table__)
        per_actor, per_item = Counter(), Counter()

        t0 = time.perf_counter()
        seq, prev = head_seq, head_hash
        done = 0
        with db.engine.connect() as conn:
            while done < count:
                n = min(BATCH, count - done)
                who = rng.choices(people, weights, k=n)
                what = rng.choices(actions, action_weights, k=n)
                rows, version_rows = [], []
                for k in range(n):
                    seq += 1
                    offset = (done + k + 1 + 0.9 * rng.random()) * step_us
                    at = last_at + timedelta(microseconds=int(offset))
                    user, action = who[k], what[k]
                    if action == "auth.login":
                        otype, oid, insp, payload = "user", str(user.id), None, login_payload[user.id]
                    elif action == "auth.login_failed":
                        otype, oid, insp, payload = "user", str(user.id), None, failed_payload[user.id]
                    elif action == "item.update":
                        item = rng.choice(items)
                        versions[item.id] += 1
                        before = titles[item.id]
                        after = f"{item.title}（第{versions[item.id]}稿）"
                        titles[item.id] = after
                        payload = canonical_json(
                            {
                                "changes": {"title": {"before": before, "after": after}},
                                "version": versions[item.id],
                                "note": "",
                                "reverted_from": None,
                            }
                        )
                        otype, oid, insp = "item", str(item.id), item.inspection_id
                        per_item[item.id] += 1
                        bumps[item.id] += 1
                        if snapshots[item.id] is not None:
                            version_rows.append(
                                {
                                    "object_type": "item",
                                    "object_id": item.id,
                                    "number": versions[item.id],
                                    "data": {**snapshots[item.id], "title": after},
                                    "note": "",
                                    "actor_id": user.id,
                                    "at": at,
                                    "reverted_from": None,
                                }
                            )
                    else:
                        measure = rng.choice(measures)
                        payload = done_payload[(measure.id, action == "measure.done")]
                        otype, oid, insp = "measure", str(measure.id), measure.inspection_id
                        status[measure.id] = "done" if action == "measure.done" else "open"
                        bumps[measure.item_id] += 1
                    row_hash = compute_hash(
                        prev, canonical_row(seq, at, user.id, user.login, action, otype, oid, payload, insp)
                    )
                    rows.append(
                        {
                            "seq": seq,
                            "at": at,
                            "actor_id": user.id,
                            "actor": user.login,
                            "action": action,
                            "object_type": otype,
                            "object_id": oid,
                            "inspection_id": insp,
                            "payload": payload,
                            "prev_hash": prev,
                            "hash": row_hash,
                        }
                    )
                    per_actor[user.login] += 1
                    prev = row_hash
                with conn.begin():
                    conn.execute(insert, rows)
                    if version_rows:
                        conn.execute(insert_versions, version_rows)
                done += n
                if done % 200_000 < BATCH or done == count:
                    print(f"    {done:>9,} synthetic events  {time.perf_counter() - t0:6.1f} s", flush=True)
            with conn.begin():
                _settle_rows(conn, titles, bumps, status)
        db.engine.dispose()
        info.update(actor=per_actor.most_common(1)[0][0], item=per_item.most_common(1)[0][0])
        return info


def _settle_rows(conn, titles: dict, bumps: Counter, status: dict) -> None:
    """Leave the rows as the padding's events say: each item's last title and its version
    counter moved on by each edit and measure change, each measure's last status, so that
    `flask audit verify` reconciles them with no problem."""
    import sqlalchemy as sa

    from portal.inspections.models import Measure, RectificationItem

    items, measures = RectificationItem.__table__, Measure.__table__
    conn.execute(
        sa.update(items)
        .where(items.c.id == sa.bindparam("b_id"))
        .values(title=sa.bindparam("b_title"), version=items.c.version + sa.bindparam("b_bump")),
        [{"b_id": i, "b_title": t, "b_bump": bumps[i]} for i, t in titles.items()],
    )
    if status:
        conn.execute(
            sa.update(measures)
            .where(measures.c.id == sa.bindparam("b_id"))
            .values(status=sa.bindparam("b_status"), status_reason=""),
            [{"b_id": m, "b_status": s} for m, s in status.items()],
        )


def analyze(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE")
    engine.dispose()


def build(url: str, instance: str, total: int) -> tuple[dict, dict]:
    from benchdb import migrated_app

    from portal.audit.chain import utcnow

    rng = random.Random(20261128)
    now = utcnow()
    start, end = now - timedelta(days=365), now - timedelta(hours=1)
    times = {}
    app = migrated_app(url, instance)
    t0 = time.perf_counter()
    build_documents(app, rng, start)
    times["documents"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    info = pad_chain(app, total, rng, end)
    times["synthetic"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyze(url)
    times["analyze"] = time.perf_counter() - t0
    info["now"] = now
    return info, times


# --- flask audit verify ---------------------------------------------------------------------


def run_verify(url: str, instance: str, *options: str) -> tuple[float, int, list[str], float]:
    """Wall-clock of `flask --app app audit verify` (process start included), its rc, its tail
    and its peak resident memory (MiB)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "RECTIFY_CONFIG": "production",
        "EVIDENCE_DIR": str(Path(instance) / "evidence"),
        "AUDIT_CHECKPOINT_KEY_FILE": str(Path(instance) / "checkpoint.key"),
        "AUDIT_CHECKPOINT_DIR": str(Path(instance) / "checkpoints"),
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(  # noqa: S603
            [str(BIN / "flask"), "--app", "app", "audit", "verify", *options],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            text=True,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - t0
        out.seek(0), err.seek(0)
        tail = out.read().strip().splitlines()[-2:]
        if returncode != 0:
            tail += err.read().strip().splitlines()[-10:]
    return elapsed, returncode, tail, usage.ru_maxrss / 1024  # Linux: KiB


# --- HTTP -----------------------------------------------------------------------------------


class Client:
    """One connection per request (gunicorn's sync worker closes them); keeps the cookies."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            return response.status, text, dict(response.headers)
        finally:
            conn.close()

    def sign_in(self, login: str, password: str) -> None:
        status, page, _h = self.request("GET", "/login")
        token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or token is None:
            raise SystemExit(f"GET /login answered {status} without a csrf_token")
        status, _page, headers = self.request(
            "POST", "/login", {"csrf_token": token.group(1), "login": login, "password": password}
        )
        if status != 302:
            raise SystemExit(f"signing in as {login} failed: POST /login answered {status}")

    def download(self, path: str, body: dict, dest: Path) -> tuple[int, int]:
        """POST `body` and stream the answer into `dest`; return (status, bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        try:
            conn.request("POST", path, body=urlencode(body).encode(), headers=headers)
            response = conn.getresponse()
            size = 0
            with open(dest, "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    size += len(chunk)
            return response.status, size
        finally:
            conn.close()

    def timings(self, path: str, n: int, warmup: int) -> tuple[list[float], str]:
        """Milliseconds for each of `n` sequential GETs (after `warmup`), and the last body."""
        samples, body = [], ""
        for k in range(warmup + n):
            t0 = time.perf_counter()
            status, body, _h = self.request("GET", path)
            elapsed = 1000 * (time.perf_counter() - t0)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}, not 200")
            if k >= warmup:
                samples.append(elapsed)
        return samples, body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(url: str, instance: str):
    """gunicorn, 1 sync worker, serving make_served_app() on a free port; yields the port."""
    port = free_port()
    log = open(Path(instance) / "gunicorn.log", "w+b")  # noqa: SIM115
    env = {**os.environ, ENV_URL: url, ENV_INSTANCE: instance}
    proc = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "--chdir",
            str(Path(__file__).resolve().parent),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--timeout",  # the 1M-event export streams for longer than gunicorn's default 30 s
            "300",
            "--log-level",
            "warning",
            "audit_scale:make_served_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                if Client(port).request("GET", "/bench/bare")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                log.seek(0)
                raise SystemExit("gunicorn did not start:\n" + log.read().decode(errors="replace"))
            time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def page_urls(info: dict, total: int) -> list[tuple[str, str]]:
    since = (info["now"] - timedelta(days=182)).date()
    insp = info["inspection"]
    return [
        ("newest", "/audit/"),
        ("actor", "/audit/?" + urlencode({"actor": info["actor"]})),
        ("action", "/audit/?action=auth.login_failed"),
        ("object", f"/audit/?object_type=item&object_id={info['item']}"),
        ("inspection", f"/audit/?inspection={insp}"),
        ("date range", f"/audit/?since={since.isoformat()}&until={(since + timedelta(days=7)).isoformat()}"),
        ("insp+action", f"/audit/?inspection={insp}&action=measure.done"),
        ("deep page", f"/audit/?before={max(total // 2, 2)}"),
        # Beyond the list: two filters whose intersection is empty (sign-ins belong to
        # no inspection), the worst case for an index on one column followed by a filter.
        ("empty combo", f"/audit/?inspection={insp}&action=auth.login"),
    ]


def p50_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=100, method="inclusive")[94]


def measure_pages(url: str, instance: str, info: dict, total: int, n: int) -> list[tuple]:
    """Rows (label, path, p50, p95, events shown); the bare route is timed first and last."""
    warmup = max(5, n // 20)
    rows = []
    with served(url, instance) as (port, master):
        print(
            f"  gunicorn on 127.0.0.1:{port}, 1 sync worker; {n} sequential requests per URL "
            f"after {warmup} warm-up",
            flush=True,
        )
        client = Client(port)
        client.sign_in(AUDITOR, AUDITOR_PASSWORD)
        bare, _body = client.timings("/bench/bare", n // 2, warmup)
        for label, path in page_urls(info, total):
            samples, body = client.timings(path, n, warmup)
            # Events shown (rows marked data-seq in the current template), a sanity check only.
            shown = len(re.findall(r'<tr[^>]*data-seq="', body))
            rows.append((label, path, *p50_p95(samples), shown))
            print(
                f"    {label:<12} p50 {rows[-1][2]:7.2f} ms  p95 {rows[-1][3]:7.2f} ms  "
                f"{len(body.encode()) / 1024:6.1f} KiB  {shown:>3} rows  {path}",
                flush=True,
            )
        more, _body = client.timings("/bench/bare", n - n // 2, warmup)
        measure_export_and_verification(client, master, instance)
    rows.insert(0, ("bare", "/bench/bare", *p50_p95(bare + more), 0))
    return rows


def _peak_rss_mib(master: int) -> float:
    """The gunicorn worker's peak resident memory (VmHWM), in MiB."""
    worker = Path(f"/proc/{master}/task/{master}/children").read_text().split()[0]
    for line in Path(f"/proc/{worker}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_export_and_verification(client: Client, master: int, instance: str) -> None:
    """The whole log exported as JSON Lines through HTTP (streamed: the worker's memory stays
    flat), re-checked by the standalone script; then the verification page's run."""
    _status, page, _h = client.request("GET", "/audit/")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    rss_before = _peak_rss_mib(master)
    dest = Path(instance) / "export.jsonl"
    t0 = time.perf_counter()
    status, size = client.download("/audit/export", {"csrf_token": token, "format": "jsonl"}, dest)
    export_s = time.perf_counter() - t0
    if status != 200:
        raise SystemExit(f"the export answered {status}")
    print(
        f"    export JSONL: {export_s:.1f} s, {size / 2**20:,.0f} MiB; worker peak RSS "
        f"{rss_before:.0f} MiB before, {_peak_rss_mib(master):.0f} MiB after",
        flush=True,
    )
    t0 = time.perf_counter()
    checked = subprocess.run(  # noqa: S603
        [sys.executable, "-I", "-S", str(ROOT / "portal" / "auditing" / "verify_export.py"), str(dest)],
        capture_output=True,
        text=True,
        check=False,
    )
    print(
        f"    standalone check of the export: {time.perf_counter() - t0:.1f} s, exit "
        f"{checked.returncode}: {(checked.stdout or checked.stderr).strip()[:120]}",
        flush=True,
    )
    dest.unlink()
    for scope in ("all", "1"):
        t0 = time.perf_counter()
        status, _body, _h = client.request("POST", "/audit/verify", {"csrf_token": token, "scope": scope})
        verify_s = time.perf_counter() - t0
        _status, body, _h = client.request("GET", "/audit/verify")
        badge = re.search(r'id="result-badge">([^<]+)<', body)
        checked = re.search(r"<td>(\d+) \(", body)
        print(
            f"    verification page, {'everything' if scope == 'all' else 'inspection 1'}: "
            f"{verify_s:.1f} s (answer {status}), result {badge.group(1) if badge else '?'}, "
            f"{checked.group(1) if checked else '?'} events checked",
            flush=True,
        )


# --- one database ---------------------------------------------------------------------------


def bench(label: str, url: str, instance: str, total: int, n_requests: int) -> dict:
    print(f"{label}: building {total:,} audit events", flush=True)
    info, times = build(url, instance, total)
    print(
        f"  documents {times['documents']:.1f} s ({info['head_before']:,} real events), "
        f"synthetic {times['synthetic']:.1f} s ({info['synthetic']:,} events, "
        f"{info['synthetic'] / max(times['synthetic'], 1e-9):,.0f}/s), "
        f"analyze {times['analyze']:.1f} s",
        flush=True,
    )
    verify = {}
    for name, options in (("verify", ()), ("chain only", ("--chain-only",))):
        verify[name], rc, tail, rss = run_verify(url, instance, *options)
        target = f"(target < {VERIFY_TARGET_S:.0f} s)" if not options else "(the chain alone)"
        command = " ".join(("flask audit verify", *options))
        print(f"  {command}: {verify[name]:.2f} s {target}, peak RSS {rss:.0f} MiB, exit {rc}")
        for line in tail:
            print(f"    | {line[:150]}")
        if rc != 0:
            raise SystemExit(f"{command} failed on {label} (exit {rc})")
    rows = measure_pages(url, instance, info, total, n_requests)
    return {"label": label, "times": times, "verify": verify, "rows": rows, "info": info}


def summary(results: list[dict], total: int) -> None:
    print(
        f"\nSummary ({total:,} events; targets: verify < {VERIFY_TARGET_S:.0f} s, "
        f"page p95 < {PAGE_TARGET_MS:.0f} ms)"
    )
    for r in results:
        t = r["times"]
        print(
            f"\n{r['label']}: generation {t['documents'] + t['synthetic']:.1f} s "
            f"(documents {t['documents']:.1f} s + synthetic {t['synthetic']:.1f} s), "
            f"analyze {t['analyze']:.1f} s"
        )
        v = r["verify"]
        verdict = "ok" if v["verify"] < VERIFY_TARGET_S else "OVER"
        print(f"  flask audit verify {v['verify']:.2f} s [{verdict}] (--chain-only {v['chain only']:.2f} s)")
        bare_p95 = r["rows"][0][3]
        print(f"  {'URL':<12} {'p50 ms':>8} {'p95 ms':>8} {'p95/bare':>9}  target")
        for label, _path, p50, p95, _shown in r["rows"]:
            verdict = "" if label == "bare" else ("ok" if p95 < PAGE_TARGET_MS else "OVER")
            print(f"  {label:<12} {p50:8.2f} {p95:8.2f} {p95 / bare_p95:9.1f}  {verdict}")
    print(
        "\n(empty combo: /audit/?inspection=<id>&action=auth.login, not in the issue's list; no "
        "event matches both filters, so the page searches a bounded stretch of seqs and says "
        "where it stopped)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per URL")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file (and print where)")
    args = parser.parse_args()
    results = []
    if args.db in ("sqlite", "both"):
        instance = tempfile.mkdtemp(prefix="rectify-bench-")
        try:
            results.append(
                bench("sqlite", f"sqlite:///{instance}/bench.db", instance, args.events, args.requests)
            )
        finally:
            if args.keep:
                print(f"  kept {instance}/bench.db (instance folder {instance})")
            else:
                shutil.rmtree(instance, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        url = os.environ.get("DATABASE_URL", PG_DEFAULT).replace("postgresql://", "postgresql+psycopg://")
        instance = tempfile.mkdtemp(prefix="rectify-bench-")
        try:
            results.append(bench("postgresql", url, instance, args.events, args.requests))
        finally:
            shutil.rmtree(instance, ignore_errors=True)
    summary(results, args.events)


if __name__ == "__main__":
    main()

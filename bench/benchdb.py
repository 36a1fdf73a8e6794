"""Shared by the benches: an empty, migrated database of the kind asked for."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import flask_migrate
import sqlalchemy as sa


def recreate_postgres_database(url: str) -> None:
    """Drop and create the database named at the end of `url` (never the test database)."""
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = url.rsplit("/", 1)[1]
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def migrated_app(url: str, instance: str):
    """An app on `url`, migrated to the head revision (PostgreSQL databases are recreated)."""
    from portal import create_app
    from portal.core import migrations

    if url.startswith("postgresql"):
        recreate_postgres_database(url)
    app = create_app(
        {
            "CONFIG": "testing",
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )
    migrations.enable(app)
    with app.app_context():
        flask_migrate.upgrade()
    return app


def build_structure(actor, party_secretary) -> dict:
    """12 departments and 5 inspections of 4 categories each (inside an app context; the
    caller commits): {"departments": [id], "categories": [(inspection id, category id)]}."""
    from portal.accounts.operations import create_department
    from portal.inspections.operations import create_category, create_inspection

    departments = [create_department(actor, f"责任部门{n:02d}") for n in range(12)]
    categories = []
    for n in range(5):
        inspection = create_inspection(actor, title=f"第{n + 1}轮巡察整改", party_secretary=party_secretary)
        categories += [
            (inspection.id, create_category(actor, inspection, label=label, title=f"第{label}类问题").id)
            for label in ("一", "二", "三", "四")
        ]
    return {"departments": [d.id for d in departments], "categories": categories}


@contextlib.contextmanager
def gunicorn_serving(
    app_spec: str,
    env: dict,
    log_path: Path,
    workers: int = 1,
    start_seconds: int = 90,
    master: list[int] | None = None,
):
    """gunicorn serving `app_spec` ("module:factory()" in bench/) with `workers` sync workers on
    a free loopback port, with `env` added; yields the port once /bench/bare answers 200 (and
    puts the master's pid in `master`, when given). A traceback in its log is printed when it
    stops."""
    from audit_scale import Client, free_port

    root = Path(__file__).resolve().parents[1]
    port = free_port()
    out = open(log_path, "w+b")  # noqa: SIM115
    command = [str(root / ".venv" / "bin" / "gunicorn"), "--chdir", str(root / "bench")]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync"]
    command += ["--log-level", "warning", app_spec]
    proc = subprocess.Popen(command, cwd=root, env={**os.environ, **env}, stdout=out, stderr=out)  # noqa: S603
    if master is not None:
        master.append(proc.pid)
    try:
        deadline = time.time() + start_seconds
        while True:
            with contextlib.suppress(OSError):
                if Client(port).request("GET", "/bench/bare")[0] == 200:
                    break
            if proc.poll() is not None or time.time() > deadline:
                out.seek(0)
                raise SystemExit("gunicorn did not start:\n" + out.read().decode(errors="replace"))
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.seek(0)
        tail = out.read().decode(errors="replace").strip()
        out.close()
        if "Traceback" in tail:
            print("gunicorn logged a traceback:\n" + tail[-3000:], flush=True)


def workers_rss_mib(master_pid: int) -> list[float]:
    """The resident memory (MiB) of each worker of the gunicorn master `master_pid` (Linux)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        sizes.append(kib / 1024)
    return sizes


def served_app(env_url: str, env_instance: str, **settings):
    """The WSGI app a bench's gunicorn serves: the portal in production mode on the database and
    instance that the environment variables `env_url` and `env_instance` name, with `settings`
    over it, plus the bare route (`/bench/bare`) every ratio is taken against."""
    from portal import create_app

    app = create_app(
        {
            "CONFIG": "production",
            # pages are measured, not the second sign-in step (production requires it)
            "MFA_REQUIRED_ROLES": (),
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": os.environ[env_instance],
            "SQLALCHEMY_DATABASE_URI": os.environ[env_url],
            **settings,
        }
    )
    app.add_url_rule(
        "/bench/bare", "bench_bare", lambda: ("bare", 200, {"Content-Type": "text/plain; charset=utf-8"})
    )
    return app

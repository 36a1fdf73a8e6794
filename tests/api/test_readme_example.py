"""The README's API example, run as written: its curl commands against the demo served on a
loopback port, with a token of the demo account `staff` in $TOKEN."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from portal.accounts.models import User
from portal.accounts.tokens import create_token
from portal.audit.chain import Actor
from portal.core.extensions import db

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- api-example -->\n```sh\n(.*?)```\n<!-- /api-example -->", text, re.S).group(1)
    return "\n".join(line for line in block.splitlines() if not line.startswith("TOKEN="))


def documents(output: str) -> list[dict]:
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(output):
        if output[at].isspace():
            at += 1
            continue
        document, at = decoder.raw_decode(output, at)
        found.append(document)
    return found


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_example_works_as_written(demo_app):
    with demo_app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.login == "staff"))
        secret = create_token(Actor.of(staff), staff, "README", "write", 1).secret
        db.session.commit()
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = example().replace("http://127.0.0.1:5000", f"http://127.0.0.1:{server.server_port}")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={"TOKEN": secret, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert done.returncode == 0, done.stderr
    listing, workflow, fired, found = documents(done.stdout)
    assert len(listing["items"]) == 2 and listing["batching"]["next"]
    assert "start" in [t["id"] for t in workflow["transitions"]]
    assert fired["state"]["id"] == "in_progress" and fired["history"][-1]["comment"] == "已制定整改方案"
    assert "合同管理不规范" in [hit["title"] for hit in found["items"]]

"""Soak: the production stack on loopback under a steady mixed load for ten minutes.

Eight clients (three staff, the responsible leader, the office, the auditor and two members of
the public) each sign in once and then browse as people do, a few requests a second, about one
request in ten a write: transitions (start, submit, approve, return, publish, follow-up checks),
evidence uploads, edits of the completion summary and public feedback. Each client comes from
an address of its own in X-Forwarded-For (nginx in front, TRUSTED_PROXIES=1), so the per-address
limits see eight people.

It passes when no response was a 5xx, every acknowledged write is found afterwards (the
history row, the evidence row and its file, the feedback row, the saved summary) and
`flask audit verify` accepts the chain, no traceback is logged, and the memory of every web
worker and of the task worker at the end is within 10% of what it was after the warm-up (the
first minute). The feedback form allows 5 posts a minute from one address, so each member of
the public moves to another address after a few (another person giving feedback).

It needs PostgreSQL and Redis; the database named in --db-url is created and dropped, the
Redis database in --redis-url flushed.

    .venv/bin/python bench/soak.py                  # 10 minutes, 8 clients, 10% writes
    .venv/bin/python bench/soak.py --minutes 1      # a quick run
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import http.cookies
import random
import re
import struct
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyotp
import redis
import sqlalchemy as sa
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stack.launch import Stack, production_stack  # noqa: E402

#: the clients, in the order they sign in: (name, login or None for the public)
CLIENTS = [
    ("staff-a", "staff"),
    ("staff2", "staff2"),
    ("staff-b", "staff"),
    ("leader", "leader"),
    ("office", "office"),
    ("auditor", "auditor"),
    ("public-1", None),
    ("public-2", None),
]
#: feedback posts per public address before the client moves on to another one (the limit
#: is 5 a minute and 30 a day per address; many people give feedback, each a little)
FEEDBACK_PER_ADDRESS = 4
FLAT = 0.10


# --- recording --------------------------------------------------------------------------------


class Stats:
    """Latencies and statuses per route, the write counts, the acknowledged writes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter] = defaultdict(Counter)
        self.requests = 0
        self.writes = 0
        self.acked: list[Write] = []
        self.refused: Counter = Counter()
        self.server_errors: list[str] = []
        self.client_errors: list[str] = []

    def record(self, route: str, status: int, seconds: float, write: bool, detail: str) -> None:
        with self.lock:
            self.latency[route].append(seconds * 1000)
            self.status[route][status] += 1
            self.requests += 1
            self.writes += write
            if status >= 500:
                self.server_errors.append(f"{time.strftime('%H:%M:%S')} {route} {detail} -> {status}")

    def write_share(self) -> float:
        with self.lock:
            return self.writes / self.requests if self.requests else 0.0

    def ack(self, write: Write) -> None:
        with self.lock:
            self.acked.append(write)

    def refuse(self, what: str, status: int) -> None:
        with self.lock:
            self.refused[f"{what} {status}"] += 1


@dataclass
class Write:
    """An acknowledged write and what shows it afterwards."""

    kind: str  # transition | evidence | edit | feedback
    item_id: int
    token: str  # in the comment, the file name, the summary or the feedback text
    action: str = ""
    sha256: str = ""


# --- one browser ------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    location: str
    text: str


class Browser:
    """One person's browser: a keep-alive connection, its cookies and its network address.

    The session cookie is Secure (production); the soak speaks plain http to gunicorn as nginx
    does, so the cookies are kept here and always sent, and X-Forwarded-Proto says https.
    """

    def __init__(self, base_url: str, address: str, stats: Stats) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.origin = f"https://{self.host}:{self.port}"
        self.address = address
        self.stats = stats
        self.cookies: dict[str, str] = {}
        self.referer = self.origin + "/"
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return self.conn

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(
        self,
        method: str,
        path: str,
        route: str,
        body: bytes | None = None,
        content_type: str | None = None,
        write: bool = False,
    ) -> Reply:
        headers = {
            "X-Forwarded-For": self.address,
            "X-Forwarded-Proto": "https",
            "Accept-Language": "zh-CN,zh;q=0.9",
            "User-Agent": "rectify-soak/1",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["Referer"] = self.referer  # Flask-WTF checks it on https
            headers["Origin"] = self.origin
            headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in range(2):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError) as error:
                self.conn = None  # the server closed a kept-alive connection: reconnect once
                if attempt:
                    with self.stats.lock:
                        self.stats.client_errors.append(f"{route} {path}: {error!r}")
                    raise
        elapsed = time.perf_counter() - started
        self._keep_cookies(response)
        self.stats.record(route, response.status, elapsed, write, f"{method} {path}")
        if response.headers.get("Connection", "").lower() == "close":
            self.conn = None
        if method == "GET" and response.status == 200:
            self.referer = self.origin + path
        location = urlsplit(response.headers.get("Location", "")).path
        return Reply(response.status, location, data.decode("utf-8", "replace"))

    def get(self, path: str, route: str) -> Reply:
        return self.request("GET", path, route)

    def post_form(self, path: str, route: str, fields: list[tuple[str, str]], write: bool = True) -> Reply:
        return self.request("POST", path, route, urlencode(fields).encode(), write=write)

    def post_multipart(
        self, path: str, route: str, fields: list[tuple[str, str]], file: tuple[str, str, bytes]
    ) -> Reply:
        boundary = "soak" + uuid.uuid4().hex
        parts = []
        for name, value in fields:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        name, filename, content = file
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST", path, route, b"".join(parts), f"multipart/form-data; boundary={boundary}", write=True
        )


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def tiny_png() -> bytes:
    """A valid 1×1 PNG (the upload checks that the bytes are what the name says)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def tiny_pdf(token: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% "
        + token.encode()
        + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


# --- the people -------------------------------------------------------------------------------


@dataclass
class ItemPage:
    """What the item page offers its reader: the transitions (with the version) and state."""

    item_id: int
    state: str
    publication: str
    transitions: dict[str, str]  # transition id -> version
    csrf: str


def parse_item(item_id: int, page: str) -> ItemPage:
    head = page[page.find('id="item-state"') :]
    state = re.search(r'data-state="([a-z_]+)"', head)
    publication = re.search(r'data-publication="([a-z_]+)"', head)
    transitions = {}
    for form in re.finditer(r'<form[^>]*data-transition="([a-z_]+)"[^>]*>(.*?)</form>', page, re.S):
        version = re.search(r'name="version" value="(\d+)"', form.group(2))
        transitions[form.group(1)] = version.group(1) if version else ""
    # the leader's review panel: one form, a button per step (approve, return)
    review = re.search(r'<form[^>]*id="review-form"[^>]*>(.*?)</form>', page, re.S)
    if review:
        version = re.search(r'name="version" value="(\d+)"', review.group(1))
        for step in re.findall(r'<button[^>]*data-transition="([a-z_]+)"', review.group(1)):
            transitions[step] = version.group(1) if version else ""
    return ItemPage(
        item_id,
        state.group(1) if state else "",
        publication.group(1) if publication else "",
        transitions,
        csrf_of(page),
    )


class Person(threading.Thread):
    """One client: signs in, then reads and writes until the deadline."""

    #: think time between requests (seconds, mean of an exponential)
    think = 0.35

    def __init__(self, name: str, login: str | None, index: int, ctx: Soak) -> None:
        super().__init__(name=name, daemon=True)
        self.login, self.ctx, self.index = login, ctx, index
        self.browser = Browser(ctx.stack.base_url, f"10.0.0.{index + 1}", ctx.stats)
        self.rng = random.Random(index)
        self.last: ItemPage | None = None
        self.failure: str | None = None
        self.signed_in = threading.Event()

    # signing in

    def sign_in(self) -> None:
        account = self.ctx.stack.seed["accounts"][self.login]
        page = self.browser.get("/login", "GET /login")
        reply = self.browser.post_form(
            "/login",
            "POST /login",
            [("csrf_token", csrf_of(page.text)), ("login", self.login), ("password", account["password"])],
            write=False,
        )
        if reply.status != 302:
            raise RuntimeError(f"{self.login}: sign-in answered {reply.status}")
        if reply.location.startswith("/login/verify"):
            totp = pyotp.TOTP(account["totp"])
            for _attempt in range(3):
                page = self.browser.get("/login/verify", "GET /login/verify")
                reply = self.browser.post_form(
                    "/login/verify",
                    "POST /login/verify",
                    [("csrf_token", csrf_of(page.text)), ("code", totp.now())],
                    write=False,
                )
                if reply.status == 302:
                    break
                # the code of this step was used already (the enrolment at seeding): next step
                time.sleep(30.5 - time.time() % 30)
            else:
                raise RuntimeError(f"{self.login}: the second step was refused")
        self.browser.get("/", "GET /")

    # the loop

    def run(self) -> None:
        try:
            if self.login:
                self.sign_in()
            self.signed_in.set()
            self.ctx.ready.wait()
            while time.time() < self.ctx.deadline:
                if not (self.wants_write() and self.write()):
                    self.read()
                time.sleep(min(3.0, self.rng.expovariate(1 / self.think)))
        except Exception as error:  # noqa: BLE001  (reported as the client's failure)
            self.failure = f"{self.name}: {error!r}"
            self.signed_in.set()

    def wants_write(self) -> bool:
        return self.ctx.stats.write_share() < self.ctx.write_share and self.rng.random() < 0.5

    def read(self) -> None:
        raise NotImplementedError

    def write(self) -> bool:
        """Make one write if there is one to make; False when there was nothing to do."""
        raise NotImplementedError

    # helpers

    def item_page(self, item_id: int) -> ItemPage:
        reply = self.browser.get(f"/items/{item_id}", "GET /items/<id>")
        self.last = parse_item(item_id, reply.text) if reply.status == 200 else None
        return self.last

    def fire(self, page: ItemPage, transition: str, comment: str = "") -> bool:
        token = f"soak-{uuid.uuid4().hex[:12]}"
        reply = self.browser.post_form(
            f"/items/{page.item_id}/transitions/{transition}",
            f"POST /items/<id>/transitions/{transition}",
            [
                ("csrf_token", page.csrf),
                ("version", page.transitions[transition]),
                ("comment", f"{comment}（{token}）" if comment else token),
            ],
        )
        if reply.status == 302 and reply.location == f"/items/{page.item_id}":
            self.ctx.stats.ack(Write("transition", page.item_id, token, action=transition))
            self.item_page(page.item_id)  # the browser follows the redirect
            return True
        self.ctx.stats.refuse(f"transition {transition}", reply.status)
        self.last = None
        return True  # a refused write (a conflict with another client) is still a write made

    def links(self, page: str, pattern: str = r'href="/items/(\d+)"') -> list[int]:
        return sorted({int(n) for n in re.findall(pattern, page)})


class Staff(Person):
    """责任人: works on their items (start, evidence, the completion summary, submit)."""

    def mine(self) -> list[int]:
        own = [i["id"] for i in self.ctx.stack.seed["items"] if i["staff"] == self.login]
        # two clients share the account `staff`: each works on its own half of the items
        sharing = [name for name, login in self.ctx.clients if login == self.login]
        if len(sharing) > 1:
            own = own[sharing.index(self.name) :: len(sharing)]
        return own

    def read(self) -> None:
        choice = self.rng.random()
        if choice < 0.55:
            self.item_page(self.rng.choice(self.mine()))
        elif choice < 0.75:
            self.browser.get("/worklists/my_items", "GET /worklists/<name>")
        elif choice < 0.9:
            self.browser.get("/", "GET /")
        else:
            self.browser.get(f"/inspections/{self.ctx.stack.seed['inspection']}", "GET /inspections/<id>")

    def write(self) -> bool:
        for _look in range(3):
            page = self.last if self.last and self.last.item_id in self.mine() else None
            if page is None or not self.act_on(page, dry=True):
                page = self.item_page(self.next_item())
            if page and self.act_on(page, dry=True):
                return self.act_on(page)
        return False

    def next_item(self) -> int:
        """Mostly an item already being worked on (finish before starting another), else any."""
        started = [i for i in self.mine() if self.ctx.progress[i].get("started")]
        if started and self.rng.random() < 0.75:
            return self.rng.choice(started)
        return self.rng.choice(self.mine())

    def act_on(self, page: ItemPage, dry: bool = False) -> bool:
        item = page.item_id
        shared = self.ctx.progress[item]
        if "start" in page.transitions:
            if not dry:
                shared["started"] = True
            return dry or self.fire(page, "start", "开始整改")
        if page.state not in ("assigned", "in_progress"):
            shared.pop("started", None)  # submitted: the leader's turn
            return False
        shared["started"] = True
        if not shared.get("evidence") or self.rng.random() < 0.15:
            return dry or self.upload(page)
        if not shared.get("summary"):
            return dry or self.edit_summary(page)
        if "submit" in page.transitions:
            return dry or self.fire(page, "submit", "整改完成，提交审核")
        return False

    def upload(self, page: ItemPage) -> bool:
        token = f"soak-{uuid.uuid4().hex[:12]}"
        if self.rng.random() < 0.5:
            filename, content = f"{token}.png", tiny_png()
        else:
            filename, content = f"{token}.pdf", tiny_pdf(token)
        reply = self.browser.post_multipart(
            f"/items/{page.item_id}/evidence",
            "POST /items/<id>/evidence",
            [
                ("csrf_token", page.csrf),
                ("note", "整改佐证材料"),
                *([("public", "y")] * (self.rng.random() < 0.5)),
            ],
            ("file", filename, content),
        )
        if reply.status == 302 and reply.location == f"/items/{page.item_id}":
            self.ctx.stats.ack(
                Write("evidence", page.item_id, filename, sha256=hashlib.sha256(content).hexdigest())
            )
            self.ctx.progress[page.item_id]["evidence"] = True
            self.item_page(page.item_id)
        else:
            self.ctx.stats.refuse("evidence", reply.status)
            self.last = None
        return True

    def edit_summary(self, page: ItemPage) -> bool:
        edit = self.browser.get(f"/items/{page.item_id}/edit", "GET /items/<id>/edit")
        if edit.status != 200:
            return False
        form = next(
            (f for f in lxml_html.fromstring(edit.text).forms if "completion_summary" in f.fields),
            None,
        )
        if form is None:
            return False
        token = f"soak-{uuid.uuid4().hex[:12]}"
        fields = [(k, v) for k, v in form.form_values() if k != "completion_summary"]
        fields.append(("completion_summary", f"已按要求完成整改，制度已建立并执行。{token}"))
        reply = self.browser.post_form(f"/items/{page.item_id}/edit", "POST /items/<id>/edit", fields)
        if reply.status == 302 and reply.location == f"/items/{page.item_id}":
            self.ctx.stats.ack(Write("edit", page.item_id, token))
            self.ctx.progress[page.item_id]["summary"] = True
            self.item_page(page.item_id)
        else:
            self.ctx.stats.refuse("edit", reply.status)
            self.last = None
        return True


class Leader(Person):
    """责任领导: reviews (approve, or return for more work) and publishes."""

    #: items published as the leader signs in, so that the public has something to read
    publish_first = 10

    def sign_in(self) -> None:
        super().sign_in()
        for item_id in self.ctx.item_ids[: self.publish_first]:
            page = self.item_page(item_id)
            if page and "publish" in page.transitions:
                self.fire(page, "publish", "予以公开")

    def read(self) -> None:
        choice = self.rng.random()
        if choice < 0.45:
            self.item_page(self.rng.choice(self.ctx.item_ids))
        elif choice < 0.7:
            self.browser.get("/worklists/awaiting_review", "GET /worklists/<name>")
        elif choice < 0.8:
            self.browser.get("/", "GET /")
        elif choice < 0.9:
            self.browser.get(f"/inspections/{self.ctx.stack.seed['inspection']}", "GET /inspections/<id>")
        else:
            self.browser.get("/dashboard", "GET /dashboard")

    def write(self) -> bool:
        page = self.last
        if page is None or not self.choose(page):
            waiting = self.browser.get("/worklists/awaiting_review", "GET /worklists/<name>")
            candidates = self.links(waiting.text) or self.ctx.item_ids
            page = self.item_page(self.rng.choice(candidates))
        transition = page and self.choose(page)
        if not transition:
            return False
        comment = {"approve": "同意", "return": "佐证材料不够充分，请补充后再提交", "publish": "予以公开"}
        return self.fire(page, transition, comment[transition])

    def choose(self, page: ItemPage) -> str | None:
        if "approve" in page.transitions:
            return "approve" if self.rng.random() < 0.6 else "return"
        if "publish" in page.transitions:
            return "publish"
        return None


class Office(Person):
    """巡察办: follows everything, schedules follow-up checks (回头看) and closes or reopens them."""

    def read(self) -> None:
        choice = self.rng.random()
        if choice < 0.35:
            self.item_page(self.rng.choice(self.ctx.item_ids))
        elif choice < 0.5:
            self.browser.get(f"/inspections/{self.ctx.stack.seed['inspection']}", "GET /inspections/<id>")
        elif choice < 0.6:
            self.browser.get("/", "GET /")
        elif choice < 0.7:
            self.browser.get("/dashboard", "GET /dashboard")
        elif choice < 0.8:
            self.browser.get("/feedback/", "GET /feedback/")
        else:
            name = self.rng.choice(["follow_up_checks", "overdue", "due_soon", "not_fixed"])
            self.browser.get(f"/worklists/{name}", "GET /worklists/<name>")

    def write(self) -> bool:
        page = self.last
        if page is None or not self.choose(page):
            listed = self.browser.get("/worklists/follow_up_checks", "GET /worklists/<name>")
            candidates = self.links(listed.text)
            page = self.item_page(self.rng.choice(candidates or self.ctx.item_ids))
        transition = page and self.choose(page)
        if not transition:
            return False
        comment = {"schedule_follow_up": "安排回头看", "confirm": "整改到位", "reopen": "问题反弹，重新整改"}
        return self.fire(page, transition, comment[transition])

    def choose(self, page: ItemPage) -> str | None:
        if "schedule_follow_up" in page.transitions:
            return "schedule_follow_up"
        if "reopen" in page.transitions:
            return "reopen" if self.rng.random() < 0.6 else "confirm"
        return None


class Auditor(Person):
    """审计员: reads the audit log and items' complete histories; writes nothing."""

    def read(self) -> None:
        choice = self.rng.random()
        if choice < 0.4:
            self.browser.get("/audit/", "GET /audit/")
        elif choice < 0.7:
            self.browser.get(f"/audit/items/{self.rng.choice(self.ctx.item_ids)}", "GET /audit/items/<id>")
        elif choice < 0.85:
            self.item_page(self.rng.choice(self.ctx.item_ids))
        else:
            self.browser.get("/", "GET /")

    def wants_write(self) -> bool:
        return False


class Public(Person):
    """A member of the public: the public pages and feedback on published items."""

    think = 0.5

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.given = 0
        self.published: list[int] = []

    def read(self) -> None:
        inspection = self.ctx.stack.seed["inspection"]
        choice = self.rng.random()
        if choice < 0.15 or not self.published:
            self.browser.get("/public/", "GET /public/")
            reply = self.browser.get(f"/public/inspections/{inspection}", "GET /public/inspections/<id>")
            if reply.status == 200:
                self.published = self.links(reply.text, r'href="/public/items/(\d+)"')
        elif choice < 0.35:
            self.browser.get(f"/public/inspections/{inspection}", "GET /public/inspections/<id>")
        else:
            self.browser.get(f"/public/items/{self.rng.choice(self.published)}", "GET /public/items/<id>")

    def write(self) -> bool:
        if not self.published:
            return False
        inspection = self.ctx.stack.seed["inspection"]
        item = self.rng.choice(self.published)
        path = f"/public/inspections/{inspection}/items/{item}/feedback"
        route = "/public/inspections/<id>/items/<id>/feedback"
        form = self.browser.get(path, "GET " + route)
        if form.status != 200:
            return False
        token = f"soak-{uuid.uuid4().hex[:12]}"
        kind = self.rng.choice(["not_rectified", "suggestion", "clue"])
        reply = self.browser.post_form(
            path,
            "POST " + route,
            [("csrf_token", csrf_of(form.text)), ("kind", kind), ("text", f"请核实该项整改情况。{token}")],
        )
        if reply.status == 201 and 'id="tracking-code"' in reply.text:
            self.ctx.stats.ack(Write("feedback", item, token))
        else:
            self.ctx.stats.refuse("feedback", reply.status)
        self.given += 1
        if self.given % FEEDBACK_PER_ADDRESS == 0:  # the next person
            n = self.given // FEEDBACK_PER_ADDRESS
            self.browser.address = f"10.{self.index + 1}.{n // 250}.{n % 250 + 1}"
            self.browser.cookies.clear()
        return True


ROLES = {
    "staff": Staff,
    "staff2": Staff,
    "leader": Leader,
    "office": Office,
    "auditor": Auditor,
    None: Public,
}


# --- memory -----------------------------------------------------------------------------------


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Every `every` seconds: the RSS of each gunicorn worker and of the task-queue worker."""

    def __init__(self, stack, every: float) -> None:
        super().__init__(daemon=True)
        self.stack, self.every = stack, every
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.seen: set[int] = set()
        self.stop = threading.Event()

    def sample(self) -> dict[str, int]:
        processes = {f"web {pid}": pid for pid in self.stack.web_worker_pids()}
        processes[f"task worker {self.stack.worker.pid}"] = self.stack.worker.pid
        self.seen.update(self.stack.web_worker_pids())
        taken = {name: kb for name, pid in processes.items() if (kb := rss_kb(pid)) is not None}
        self.samples.append((time.time(), taken))
        return taken

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.sample()


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Soak:
    stack: Stack
    stats: Stats
    deadline: float
    write_share: float
    item_ids: list[int]
    clients: list[tuple[str, str | None]]
    ready: threading.Event = field(default_factory=threading.Event)
    #: per item, what its staff have done: started, evidence given, summary written
    progress: dict[int, dict] = field(default_factory=lambda: defaultdict(dict))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def verify_writes(stack, db_url: str, writes: list[Write]) -> tuple[Counter, Counter, list[str]]:
    """Look up every acknowledged write in the database (and the evidence files on disk)."""
    engine = sa.create_engine(db_url)
    found, lost, problems = Counter(), Counter(), []
    evidence_dir = stack.workdir / "evidence"
    with engine.connect() as conn:
        history = {
            row.token: row
            for row in conn.execute(
                sa.text(
                    "SELECT object_id, action, substring(comment from 'soak-[0-9a-f]{12}') AS token "
                    "FROM workflow_history WHERE comment LIKE '%soak-%'"
                )
            )
        }
        evidence = {
            row.filename: row
            for row in conn.execute(sa.text("SELECT item_id, filename, storage_key, sha256 FROM evidence"))
        }
        feedback = {
            row.token: row
            for row in conn.execute(
                sa.text(
                    "SELECT item_id, substring(text from 'soak-[0-9a-f]{12}') AS token FROM feedback "
                    "WHERE text LIKE '%soak-%'"
                )
            )
        }
        summaries = {
            row.id: row.completion_summary or ""
            for row in conn.execute(sa.text("SELECT id, completion_summary FROM items"))
        }
        # every edit is a version of the item: an edit replaced by a later one is still there
        versions = " ".join(
            conn.scalars(
                sa.text(
                    "SELECT CAST(data AS TEXT) FROM document_versions WHERE CAST(data AS TEXT) LIKE '%soak-%'"
                )
            )
        )
    engine.dispose()
    for write in writes:
        ok = False
        if write.kind == "transition":
            row = history.get(write.token)
            ok = row is not None and row.object_id == write.item_id and row.action == write.action
        elif write.kind == "evidence":
            row = evidence.get(write.token)
            if row is not None and row.item_id == write.item_id and row.sha256 == write.sha256:
                path = evidence_dir / row.storage_key[:2] / row.storage_key
                ok = path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == write.sha256
        elif write.kind == "feedback":
            row = feedback.get(write.token)
            ok = row is not None and row.item_id == write.item_id
        elif write.kind == "edit":
            ok = write.token in summaries.get(write.item_id, "") or write.token in versions
        (found if ok else lost)[write.kind] += 1
        if not ok:
            problems.append(f"lost {write.kind} {write.action} item {write.item_id} {write.token}")
    return found, lost, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8, help="at most 8 (the roles above)")
    parser.add_argument("--writes", type=float, default=0.10, help="the share of requests that write")
    parser.add_argument(
        "--workdir", type=Path, help="the stack's files and logs (default: a new temporary folder)"
    )
    parser.add_argument("--db-url", default="postgresql://postgres@127.0.0.1:5432/test_soak")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--items-per-staff", type=int, default=40)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--sample-every", type=float, default=15)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rectify-soak-"))
    if any((workdir / "checkpoints").glob("checkpoint-*")) or any((workdir / "evidence").glob("*")):
        parser.error(f"{workdir} holds an earlier run's checkpoints or evidence: give a fresh --workdir")
    duration = args.minutes * 60
    warmup = min(60.0, duration / 5)

    print(f"starting the stack in {workdir} ({args.db_url}, {args.redis_url}) …", flush=True)
    with production_stack(
        workdir,
        args.db_url,
        args.redis_url,
        web_workers=args.web_workers,
        items_per_staff=args.items_per_staff,
        # nginx in front; the worker signs a checkpoint every 5 minutes during the soak
        extra_env={"TRUSTED_PROXIES": "1", "AUDIT_CHECKPOINT_EVERY_MINUTES": "5"},
    ) as stack:
        stats = Stats()
        item_ids = [i["id"] for i in stack.seed["items"]]
        ctx = Soak(stack, stats, 0.0, args.writes, item_ids, CLIENTS[: args.clients])
        people = [ROLES[login](name, login, index, ctx) for index, (name, login) in enumerate(ctx.clients)]
        print(f"stack ready at {stack.base_url}; signing in {len(people)} clients …", flush=True)
        for person in people:
            person.start()
            time.sleep(0.2)
        sampler = MemorySampler(stack, args.sample_every)
        for person in people:
            person.signed_in.wait(timeout=120)
        started = time.time()
        ctx.deadline = started + duration
        sampler.sample()
        sampler.start()
        ctx.ready.set()
        print(f"soaking for {args.minutes:g} min …", flush=True)
        for person in people:
            person.join(timeout=duration + 180)
        elapsed = time.time() - started
        sampler.stop.set()
        sampler.join()
        sampler.sample()

        found, lost, problems = verify_writes(stack, args.db_url, stats.acked)
        audit = stack.flask("audit", "verify", check=False)
        audit.checkpoints = sorted(p.name for p in (stack.workdir / "checkpoints").glob("checkpoint-*.json"))
        log = stack.log("web")
        tracebacks = log.count("Traceback") + stack.log("worker").count("Traceback")
        restarts = [line for line in log.splitlines() if "Booting worker" in line]
        report_ok = report(
            args, stats, elapsed, found, lost, problems, audit, sampler, warmup, people, tracebacks, restarts
        )
        for name in ("web", "worker"):
            if "Traceback" in stack.log(name):
                text = stack.log(name)
                print(f"\n--- the first traceback in {stack.logs[name]} ---")
                print(text[max(0, text.index("Traceback") - 300) :][:6000])
    redis.Redis.from_url(args.redis_url).flushdb()
    print(f"database {args.db_url.rsplit('/', 1)[1]} dropped, Redis flushed; logs in {workdir}")
    return 0 if report_ok else 1


def report(args, stats, elapsed, found, lost, problems, audit, sampler, warmup, people, tracebacks, restarts):
    failures = []
    print(f"\n=== Rectify soak: {elapsed / 60:.1f} min, {len(people)} clients, {stats.requests} requests ===")
    print(
        f"{args.web_workers} gunicorn workers, {2 * args.items_per_staff} items, "
        f"write target {args.writes:.0%}; latencies in ms"
    )
    print(f"{'route':58} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'5xx':>4}  other statuses")
    for route in sorted(stats.latency):
        values, statuses = stats.latency[route], stats.status[route]
        errors = sum(n for s, n in statuses.items() if s >= 500)
        other = " ".join(f"{s}×{n}" for s, n in sorted(statuses.items()) if s not in (200, 201, 302))
        print(
            f"{route:58} {len(values):6} {percentile(values, 50):7.0f} {percentile(values, 95):7.0f} "
            f"{percentile(values, 99):7.0f} {errors:4}  {other}"
        )
    every = [v for values in stats.latency.values() for v in values]
    errors = len(stats.server_errors)
    print(
        f"{'all':58} {len(every):6} {percentile(every, 50):7.0f} {percentile(every, 95):7.0f} "
        f"{percentile(every, 99):7.0f} {errors:4}"
    )
    print(
        f"throughput {stats.requests / elapsed:.1f} req/s; writes {stats.writes} ({stats.write_share():.1%})"
    )
    if errors:
        failures.append(f"{errors} responses were 5xx")
        for line in stats.server_errors[:20]:
            print("  5xx:", line)
    for person in people:
        if person.failure:
            failures.append(person.failure)
    if stats.client_errors:
        failures.append(f"{len(stats.client_errors)} requests got no answer")
        for line in stats.client_errors[:10]:
            print("  no answer:", line)

    print("\n--- writes ---")
    print(f"{'kind':12} {'acknowledged':>12} {'found':>6} {'lost':>5}")
    kinds = sorted(set(found) | set(lost))
    for kind in kinds:
        print(f"{kind:12} {found[kind] + lost[kind]:12} {found[kind]:6} {lost[kind]:5}")
    total_acked = sum(found.values()) + sum(lost.values())
    print(f"{'total':12} {total_acked:12} {sum(found.values()):6} {sum(lost.values()):5}")
    if stats.refused:
        print(
            "refused (not acknowledged, not counted):",
            ", ".join(f"{k}×{n}" for k, n in sorted(stats.refused.items())),
        )
    if sum(lost.values()):
        failures.append(f"{sum(lost.values())} acknowledged writes were lost")
        for line in problems[:20]:
            print(" ", line)
    if not total_acked:
        failures.append("no write was acknowledged")
    transitions = Counter(w.action for w in stats.acked if w.kind == "transition")
    print("transitions:", ", ".join(f"{k}×{n}" for k, n in sorted(transitions.items())))

    print("\n--- audit verify ---")
    print(f"exit {audit.returncode}: {(audit.stdout + audit.stderr).strip()[-800:]}")
    print(f"checkpoints signed: {len(audit.checkpoints)} ({', '.join(audit.checkpoints[-3:])})")
    if audit.returncode != 0:
        failures.append("flask audit verify failed")

    print(f"\n--- memory (VmRSS, MB; warm-up at {warmup:.0f} s, sampled every {args.sample_every:g} s) ---")
    t0 = sampler.samples[0][0]
    warm = next((s for s in sampler.samples if s[0] - t0 >= warmup), sampler.samples[-1])
    end = sampler.samples[-1]
    names = sorted(set(warm[1]) | set(end[1]))
    print(f"{'process':24} {'start':>7} {'warm':>7} {'end':>7} {'max':>7} {'change':>7}")
    compared = 0
    for name in names:
        series = [s[1][name] for s in sampler.samples if name in s[1]]
        first = sampler.samples[0][1].get(name)
        if name in warm[1] and name in end[1]:
            change = end[1][name] / warm[1][name] - 1
            compared += 1
            flag = "" if abs(change) <= FLAT else "  NOT FLAT"
            if flag:
                failures.append(f"{name}: RSS changed {change:+.1%} after the warm-up")
            text = f"{change:+7.1%}{flag}"
        else:
            text = "  (gone or new)"
        print(
            f"{name:24} {(first or 0) / 1024:7.1f} {warm[1].get(name, 0) / 1024:7.1f} "
            f"{end[1].get(name, 0) / 1024:7.1f} {max(series) / 1024:7.1f} {text}"
        )
    if not compared:
        failures.append("no process lived from the warm-up to the end")
    workers = len(restarts)
    print(
        f"gunicorn workers booted: {workers} (of {args.web_workers} at start); "
        f"pids seen: {sorted(sampler.seen)}"
    )
    if workers > args.web_workers:
        print(f"NOTE: gunicorn restarted {workers - args.web_workers} worker(s) during the run")
    print(f"tracebacks in gunicorn.log and worker.log: {tracebacks}")
    if tracebacks:
        failures.append(f"{tracebacks} tracebacks in the logs")

    print()
    if failures:
        print("FAIL: " + "; ".join(failures))
        return False
    print(
        f"PASS: 0 5xx in {stats.requests} requests, {total_acked} acknowledged writes all found, "
        "audit chain verified, memory flat within 10%"
    )
    return True


if __name__ == "__main__":
    sys.exit(main())

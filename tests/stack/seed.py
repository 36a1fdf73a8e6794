"""Seed a production instance for the stack journeys and the soak, through the operations
(production refuses the demo loader): `python -m tests.stack.seed` under the instance's
environment prints JSON with the accounts' passwords and two-step secrets and the item ids.

The accounts are those of a small office: 巡察办 (office), two staff, a responsible leader, a
party secretary and an auditor. The leader, the office and the auditor are enrolled in two-step
sign-in (production requires it for them), the secret known to the caller, who computes codes.
"""

from __future__ import annotations

import json
import secrets
import sys
from datetime import date, timedelta

import pyotp

from portal import create_app
from portal.accounts.operations import (
    confirm_totp_enrolment,
    create_department,
    create_user,
    start_totp_enrolment,
)
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.models import APPROVAL_SINGLE
from portal.inspections.operations import create_category, create_inspection, create_item

#: login -> (display name, global roles)
ACCOUNTS = {
    "office": ("巡察整改办公室", ("office",)),
    "staff": ("张明", ("staff",)),
    "staff2": ("李芳", ("staff",)),
    "leader": ("王建国", ("leader",)),
    "secretary": ("赵书记", ("leader",)),
    "auditor": ("审计员", ("auditor",)),
}
MFA = ("office", "leader", "secretary", "auditor")

TITLES = [
    "加强科创中心产业用房管理",
    "规范政府采购小额项目审批",
    "完善专项资金使用台账",
    "落实公务用车管理制度",
    "整改会议费超标准列支问题",
    "健全内部控制制度",
    "清理长期挂账往来款项",
    "加强固定资产清查盘点",
]


def seed(items_per_staff: int = 4) -> dict:
    actor = Actor.system("seed")
    out: dict = {"accounts": {}, "items": []}
    department = create_department(actor, "办公室")
    users = {}
    for login, (name, roles) in ACCOUNTS.items():
        password = "Rt-" + secrets.token_urlsafe(12)
        users[login] = create_user(
            actor,
            login=login,
            display_name=name,
            password=password,
            roles=roles,
            email=f"{login}@example.cn",
            department=department if login.startswith("staff") else None,
        )
        out["accounts"][login] = {"password": password, "totp": None}
    db.session.flush()
    for login in MFA:
        credential = start_totp_enrolment(actor, users[login])
        confirm_totp_enrolment(actor, users[login], pyotp.TOTP(credential.secret).now())
        out["accounts"][login]["totp"] = credential.secret
        out["accounts"][login]["totp_step"] = credential.last_step  # that code is used up
    inspection = create_inspection(
        actor,
        title="区科技创新局党组巡察整改",
        inspected_unit="区科技创新局",
        inspection_team="区委第三巡察组",
        approval_policy=APPROVAL_SINGLE,
        party_secretary=users["secretary"],
        feedback_date=date.today() - timedelta(days=30),
    )
    category = create_category(actor, inspection, label="一", title="贯彻落实党的路线方针政策方面")
    n = 0
    for staff in ("staff", "staff2"):
        for k in range(items_per_staff):
            n += 1
            item = create_item(
                actor,
                inspection,
                category=category,
                number=str(n),
                title=TITLES[(n - 1) % len(TITLES)] + ("" if n <= len(TITLES) else f"（{n}）"),
                feedback_text="巡察发现该项工作存在制度执行不到位的问题。",
                responsible_leader=users["leader"],
                staff=users[staff],
                department=department,
                deadline=date.today() + timedelta(days=60 + k),
            )
            db.session.flush()
            out["items"].append({"id": item.id, "title": item.title, "staff": staff})
    out["inspection"] = inspection.id
    db.session.commit()
    return out


def main() -> None:
    app = create_app()
    with app.app_context():
        per_staff = int(sys.argv[1]) if len(sys.argv) > 1 else 4
        print(json.dumps(seed(per_staff), ensure_ascii=False))


if __name__ == "__main__":
    main()

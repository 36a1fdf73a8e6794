"""Words a user understands: every id the workflow definitions use has a label in Chinese and
in English, and the workflow page shows those labels, never the ids."""

import re

import pytest
from flask_babel import force_locale

from portal.core import titles
from workflows import WORKFLOWS
from workflows.containers import CONTAINER_PERMISSIONS
from workflows.roles import ALL_ROLES

CODE_LIKE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[A-Z][a-z]+[A-Z][A-Za-z]*\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _guards(wf):
    return [t.guard for t in wf.transitions] + [w.guard for w in wf.worklists]


def ids_in_definitions() -> dict[str, set[str]]:
    """Every id the definitions speak, by kind, read from the definitions themselves."""
    found = {kind: set() for kind in ("permission", "role", "condition", "requirement", "effect")}
    found["permission"] |= set(CONTAINER_PERMISSIONS)
    found["role"] |= set(ALL_ROLES) | {r for roles in CONTAINER_PERMISSIONS.values() for r in roles}
    for wf in WORKFLOWS.values():
        for state in wf.states:
            found["permission"] |= set(state.permissions)
            found["role"] |= {r for roles in state.permissions.values() for r in roles}
        for guard in _guards(wf):
            found["permission"] |= set(guard.permissions)
            found["role"] |= set(guard.roles)
            found["condition"] |= set(guard.conditions)
        for t in wf.transitions:
            found["requirement"] |= set(t.requirements)
            found["requirement"] |= {"comment_required"} if t.comment_required else set()
            found["requirement"] |= {"evidence_required"} if t.evidence_required else set()
            found["effect"] |= set(t.effects)
    return found


LABEL = {
    "permission": (titles.permission_label, titles.PERMISSION_LABELS),
    "role": (titles.role_label, titles.ROLE_LABELS),
    "condition": (titles.condition_label, titles.CONDITION_LABELS),
    "requirement": (titles.requirement_label, titles.REQUIREMENT_LABELS),
    "effect": (titles.effect_label, titles.EFFECT_LABELS),
}


def test_the_definitions_use_ids_of_every_kind():
    found = ids_in_definitions()
    assert all(found.values()), found
    assert {"follow_up", "not_approved_by_actor", "ResponsibleLeader", "completion_summary"} <= set().union(
        *found.values()
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_id_of_the_definitions_has_a_label(app, lang):
    missing = []
    with app.test_request_context(), force_locale(lang):
        for kind, ids in ids_in_definitions().items():
            label_of, declared = LABEL[kind]
            for id_ in sorted(ids):
                label = label_of(id_)
                readable = label and not CODE_LIKE.search(label) and (lang != "zh" or CJK.search(label))
                if id_ not in declared or not readable:
                    missing.append((kind, id_, label))
        for wf in WORKFLOWS.values():
            for thing in (wf, *wf.states, *wf.transitions, *wf.worklists):
                if not titles.title_of(thing) or CODE_LIKE.search(titles.title_of(thing)):
                    missing.append(("title", thing.id, titles.title_of(thing)))
    assert not missing


def test_roles_read_as_a_phrase_in_the_vocabulary_order(app):
    with app.test_request_context():
        with force_locale("zh"):
            assert titles.roles_text({"ResponsibleLeader", "Editor"}) == "编辑者、本事项的责任领导"
            assert titles.roles_text({"leader", "office"}, alternatives=True) == "巡察整改办或党组领导"
        with force_locale("en"):
            assert titles.roles_text({"leader", "office"}, alternatives=True) == (
                "Inspection office or Party group leader"
            )


def test_a_person_is_named_once_and_namesakes_are_told_apart():
    class Department:
        def __init__(self, name):
            self.name = name

    class Person:
        def __init__(self, id, display_name, login, department=None):
            self.id, self.display_name, self.login, self.department = id, display_name, login, department

    people = [
        Person(1, "刘明（党组书记）", "leader"),
        Person(2, "张伟", "zhangwei1", Department("财务科")),
        Person(3, "张伟", "zhangwei2", Department("办公室")),
        Person(4, "李强", "liqiang1"),
        Person(5, "李强", "liqiang2"),
    ]
    assert titles.person_labels(people) == {
        1: "刘明（党组书记）",
        2: "张伟（财务科）",
        3: "张伟（办公室）",
        4: "李强（liqiang1）",
        5: "李强（liqiang2）",
    }


def _main_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return re.sub(r"<[^>]+>", " ", main)  # text only: ids may stay in attributes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workflow_page_speaks_the_users_language(world, signed_in, lang):
    client = signed_in("leader_resp")
    client.get("/")  # the welcome message (with the persona's login-like name) is shown there
    if lang == "en":
        client.post("/language", data={"lang": "en", "next": "/", "csrf_token": client.csrf_token()})
    page = client.get("/workflows/").text
    text = _main_text(page)
    assert not CODE_LIKE.findall(text)
    for code in ("edit", "follow_up", "ResponsibleLeader", "not_approved_by_actor", "completion_summary"):
        assert not re.search(rf"\b{code}\b", text), code
    if lang == "zh":
        for words in ("本事项的责任领导", "开展回头看", "本人尚未审核同意", "已填写整改成效", "编辑内容"):
            assert words in text, words
        assert "审核同意" in text and "待审核" in text
    else:
        for words in ("Responsible leader of the item", "Run the follow-up check", "Edit its content"):
            assert words in text, words
    # the ids stay available to tools, in attributes only
    assert 'data-transition="schedule_follow_up"' in page and 'data-permission="follow_up"' in page


def test_the_approve_row_says_who_may_approve_and_when(world, signed_in):
    page = signed_in("staff_other").get("/workflows/").text
    row = re.search(r'<tr data-transition="approve">(.*?)</tr>', page, re.S).group(1)
    text = " ".join(_main_text(f"<main>{row}</main>").split())
    assert "在该状态下有“审核”权限的人：审核者。" in text
    assert "且须具有身份：党组领导。" in text
    assert "前提：本人尚未审核同意；本人不是该事项的责任人。" in text
    assert "记录本人的审核同意" in text

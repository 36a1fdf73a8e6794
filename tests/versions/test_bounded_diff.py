"""Diffs take bounded work whatever the text: repetitive or random text of any length is
compared within a time budget, and falls back to "changed, N → M characters" beyond it."""

import random

import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document
from portal.versions.operations import char_runs, text_diff

#: What the review sent: about 8,000 repetitive characters in an edit (difflib: minutes).
REPETITIVE_BEFORE, REPETITIVE_AFTER = "abc" * 2700, "acb" * 2700


def _random_text(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("整改问题措施责任落实制度建设资金追回专项检查") for _ in range(n))


def _rebuilt(runs):
    before = "".join(text for tag, text in runs if tag in ("equal", "delete"))
    after = "".join(text for tag, text in runs if tag in ("equal", "insert"))
    return before, after


@given(
    st.text(alphabet="整改一二三ab ，。\n", max_size=60), st.text(alphabet="整改一二三ab ，。\n", max_size=60)
)
@settings(max_examples=200, deadline=None)
def test_runs_rebuild_both_texts(before, after):
    assert _rebuilt(char_runs(before, after)) == (before, after)


def test_small_edits_are_shown_character_by_character():
    assert char_runs("整改报告", "整改总结报告") == [("equal", "整改"), ("insert", "总结"), ("equal", "报告")]
    assert char_runs("联系人张三", "联系人") == [("equal", "联系人"), ("delete", "张三")]
    assert char_runs("", "") == []


@pytest.mark.timeout(30)  # a guard: difflib took minutes on this; no timing is asserted
def test_repetitive_text_is_compared_within_bounds():
    diff = text_diff(REPETITIVE_BEFORE, REPETITIVE_AFTER)
    if diff.summarized:
        assert diff.runs == [("equal", "changed, 8,100 → 8,100 characters")]
    else:
        assert _rebuilt(diff.runs) == (REPETITIVE_BEFORE, REPETITIVE_AFTER)


@pytest.mark.timeout(30)
def test_long_random_texts_fall_back_to_a_summary(app):
    before, after = _random_text(40_000, 1), _random_text(40_000, 2)
    diff = text_diff(before, after)
    assert diff.summarized
    assert diff.runs == [("equal", "changed, 40,000 → 40,000 characters")]
    with app.test_request_context(), force_locale("zh"):
        assert char_runs(before, after + "。") == [("equal", "已修改：40,000 → 40,001 个字符")]


@pytest.mark.timeout(30)
def test_a_small_edit_in_a_long_text_is_still_shown_exactly():
    before = _random_text(9_000, 3)
    after = before[:4500] + "【补充】" + before[4500:]
    diff = text_diff(before, after)
    assert not diff.summarized
    assert ("insert", "【补充】") in diff.runs and _rebuilt(diff.runs) == (before, after)


@pytest.mark.timeout(60)
def test_the_versions_page_answers_for_hostile_edits(app, world, signed_in):
    item_id = world.new_item()
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        update_document(Actor.system("test"), item, {"feedback_text": REPETITIVE_BEFORE})
        update_document(Actor.system("test"), item, {"feedback_text": REPETITIVE_AFTER})
        update_document(Actor.system("test"), item, {"completion_summary": _random_text(10_000, 4)})
        update_document(Actor.system("test"), item, {"completion_summary": _random_text(10_000, 5)})
        db.session.commit()
    office = signed_in("office")
    page = office.get(f"/versions/item/{item_id}?a=2&b=3")
    assert page.status_code == 200 and 'data-field="feedback_text"' in page.text
    page = office.get(f"/versions/item/{item_id}?a=4&b=5")
    assert page.status_code == 200
    assert 'class="diff-summary' in page.text and "已修改：10,000 → 10,000 个字符" in page.text

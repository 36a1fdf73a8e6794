"""“Is it really fixed?”: public answers on completed items feed the office's follow-up list."""

from portal.core import worklists
from portal.core.extensions import db
from portal.core.timeutil import today


def answer(client, item_id, value, comment=""):
    return client.post_form(f"/public/items/{item_id}/fixed", {"answer": value, "comment": comment})


def test_not_fixed_answers_ask_for_a_follow_up(app, world, signed_in):
    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    visitor = app.test_client()
    assert 'id="fix-check"' in visitor.get(f"/public/items/{item_id}").text
    assert answer(visitor, item_id, "not_fixed", "门口仍然堆放杂物").status_code == 302
    assert answer(visitor, item_id, "fixed").status_code == 302
    office = signed_in("office")
    page = office.get(f"/items/{item_id}").text
    assert 'data-fix="not_fixed">1<' in page and 'data-fix="fixed">1<' in page
    assert "门口仍然堆放杂物" not in visitor.get(f"/public/items/{item_id}").text  # kept internal
    with app.app_context():
        listed = [i.id for i in worklists.page("not_fixed", world.user("office"), today()).items]
    assert listed == [item_id]
    assert f'data-item="{item_id}"' in office.get("/worklists/not_fixed").text
    # The follow-up check is scheduled and confirmed: the old answer no longer counts.
    world.fire("office", item_id, "schedule_follow_up")
    world.fire("office", item_id, "confirm")
    with app.app_context():
        assert worklists.count("not_fixed", world.user("office"), today()) == 0


def test_only_completed_published_items_take_answers(app, world):
    open_item = world.new_item(state="in_progress")
    world.fire("leader_resp", open_item, "publish")
    visitor = app.test_client()
    assert 'id="fix-check"' not in visitor.get(f"/public/items/{open_item}").text
    assert answer(visitor, open_item, "fixed").status_code == 404
    private = world.new_item(state="completed")
    assert answer(visitor, private, "fixed").status_code == 404
    with app.app_context():
        from portal.feedback.models import FixCheck

        assert db.session.query(FixCheck).count() == 0


def test_bad_answers_are_refused(app, world):
    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    visitor = app.test_client()
    assert answer(visitor, item_id, "maybe").status_code == 400
    assert answer(visitor, item_id, "fixed", "长" * 501).status_code == 400


def test_an_answer_counts_from_its_own_items_completion_not_anothers(app, world, signed_in):
    """The completion time an answer is compared with is the item's own: another item completed
    later does not hide it (the sub-query is correlated to the listed item)."""
    reported = world.new_item(state="completed")
    world.fire("leader_resp", reported, "publish")
    assert answer(app.test_client(), reported, "not_fixed", "仍未整改").status_code == 302
    later = world.new_item(state="completed")  # completed after the answer was given
    with app.app_context():
        office = world.user("office")
        assert [i.id for i in worklists.page("not_fixed", office, today()).items] == [reported]
        assert worklists.count("not_fixed", office, today()) == 1
    assert f'data-item="{reported}"' in signed_in("office").get("/worklists/not_fixed").text
    assert later != reported

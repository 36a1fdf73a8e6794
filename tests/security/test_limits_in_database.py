"""The database holds to the limits whatever writes to it: text longer than its limit and
amounts out of range are refused by CHECK constraints on SQLite and PostgreSQL alike, and the
migration that adds them refuses to run over rows that break them, listing those rows."""

import importlib

import flask_migrate
import pytest
import sqlalchemy as sa

from portal import create_app
from portal.core import migrations
from portal.core.extensions import db
from tests.conftest import base_config

MIGRATION = importlib.import_module("migrations.versions.0016_input_limits")
#: every revision's length limits: 0016's, then those of the tables added since
LENGTHS = {
    **MIGRATION.LENGTHS,
    **importlib.import_module("migrations.versions.0021_search").LENGTHS,
    **importlib.import_module("migrations.versions.0022_api_tokens").LENGTHS,
}


def _length_checks():
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint) and str(constraint.name).endswith("_length"):
                yield table.name, constraint


def test_the_models_declare_what_the_migration_adds(app):
    declared = {}
    for table, constraint in _length_checks():
        column = str(constraint.name).removeprefix(f"ck_{table}_").removesuffix("_length")
        sql = str(constraint.sqltext.compile(compile_kwargs={"literal_binds": True}))
        declared.setdefault(table, {})[column] = int(sql.rsplit("<=", 1)[1])
    assert declared == LENGTHS


@pytest.mark.parametrize(("table", "column"), [(t, c) for t, cols in LENGTHS.items() for c in cols])
def test_the_database_refuses_text_beyond_its_limit(app, world, table, column):
    limit = LENGTHS[table][column]
    _one_row_in_each_table(world)
    with app.app_context():
        conn = db.session.connection()
        if table == "notice_previews":
            conn.execute(
                sa.text(
                    "INSERT INTO notice_previews (token_sha256, user_id, source_text, source_sha256, "
                    "created_at) VALUES ('t', :user, '', 'x', CURRENT_TIMESTAMP)"
                ),
                {"user": world.users["office"]},
            )
        key = "token_sha256" if table == "notice_previews" else "id"
        row = conn.execute(sa.text(f"SELECT {key} FROM {table} LIMIT 1")).scalar()  # noqa: S608
        assert row is not None
        update = sa.text(f"UPDATE {table} SET {column} = :value WHERE {key} = :key")  # noqa: S608
        with conn.begin_nested():
            conn.execute(update, {"value": "长" * limit, "key": row})  # at the limit: fine
        with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)), conn.begin_nested():
            conn.execute(update, {"value": "长" * (limit + 1), "key": row})
        db.session.rollback()


def _one_row_in_each_table(world) -> None:
    from portal.accounts.tokens import create_token
    from portal.audit.chain import Actor
    from portal.feedback.operations import answer_fix_check, submit_feedback
    from portal.inspections.models import Inspection
    from portal.notifications.operations import chase_item
    from portal.search.operations import save_search
    from portal.search.query import Search
    from tests.deadlines.helpers import file, in_days

    world.add_measure(world.new_item(state="in_progress"))
    file(world, world.new_item(state="in_progress", deadline=in_days(30)))
    completed = world.new_item(state="completed")
    world.fire("leader_resp", completed, "publish")
    chased = world.new_item()
    with world.app.app_context():
        item = world.item(completed)
        submit_feedback(db.session.get(Inspection, item.inspection_id), item, kind="clue", text="请核实此事")
        answer_fix_check(item, "fixed", "好")
        chase_item(Actor.of(world.user("office")), world.item(chased), "请尽快报送")
        office = world.user("office")
        save_search(Actor.of(office), office, "公车", Search(q="公车"))
        create_token(Actor.of(office), office, "脚本", "read", 30)
        db.session.commit()


def test_the_migration_stops_on_rows_that_break_the_limits(tmp_path, capfd):
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'old.db'}"))
    migrations.enable(app)
    with app.app_context():
        flask_migrate.upgrade(revision="0015_follow_up_schedule")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO inspections (id, title, approval_policy, created_at) "
                f"VALUES (7, '{'长' * 301}', 'single', CURRENT_TIMESTAMP)"
            )
            conn.exec_driver_sql(
                "INSERT INTO items (id, inspection_id, title, money_recovered, created_at) "
                "VALUES (9, 7, '事项', 1e400, CURRENT_TIMESTAMP)"
            )
        with pytest.raises(SystemExit):  # flask_migrate logs the error and exits
            flask_migrate.upgrade()
        logged = capfd.readouterr().err
        assert "inspections 7 title: 301 characters (at most 300)" in logged
        assert "items 9 money_recovered: inf" in logged
        with db.engine.begin() as conn:  # corrected, the upgrade goes through
            conn.exec_driver_sql("UPDATE inspections SET title = '已更正' WHERE id = 7")
            conn.exec_driver_sql("UPDATE items SET money_recovered = 100 WHERE id = 9")
        flask_migrate.upgrade()
        db.engine.dispose()

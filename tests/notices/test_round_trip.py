"""Round trip: every corpus notice and the seed, written out as notice text
(portal.notices.render) and parsed again, give the same tree."""

from pathlib import Path

import pytest
from hypothesis import given, settings

from portal.notices.parser import parse
from portal.notices.render import render_text
from tests.notices.test_parser import NOTICE
from tests.notices.test_parser_fuzz import mutated

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
FILES = [*sorted(CORPUS.glob("*.txt")), NOTICE]
# Everything the parse found, except what depends on the narrative (report text, amounts in
# it) or on damage in the source (dates whose digits ran together) and the warnings about it.
KEYS = (
    "title",
    "inspected_unit",
    "inspection_team",
    "inspection_start",
    "inspection_end",
    "feedback_date",
    "problems_stated",
    "contact",
    "summary",
    "categories",
)


def tree(notice):
    data = notice.to_json()
    return {key: data[key] for key in KEYS}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_rendered_notice_parses_to_the_same_tree(path):
    original = parse(path.read_text(encoding="utf-8"))
    text = render_text(original)
    again = parse(text)
    assert tree(again) == tree(original)
    assert [c.text for c in again.categories] == [c.text for c in original.categories]
    # The rendering is stable: written out again, it is the same text.
    assert render_text(again) == text


def test_the_seed_round_trip_keeps_every_detail():
    original = parse(NOTICE.read_text(encoding="utf-8"))
    again = parse(render_text(original))
    assert len(again.problems) == 15
    assert [w for w in again.warnings] == [w for w in original.warnings]
    assert [p.deadline for p in again.problems] == [p.deadline for p in original.problems]
    assert [p.money_to_recover for p in again.problems] == [p.money_to_recover for p in original.problems]


def test_sub_problems_statuses_and_status_groups_round_trip():
    text = (
        "中共某局党组关于巡察整改情况的通报\n"
        "根据区委统一部署,2019年12月2日至1月20日,区委第三巡察组对某局党组开展了巡察。3月5日,区委第三巡察组向"
        "某局党组反馈了巡察意见。巡察反馈的2个方面共5个问题,已完成整改3个,正在整改的2个。\n"
        "二、整改落实情况\n(一)已整改完成的问题\n1.资金管理不规范(已完成)\n(1)报销不严\n整改情况:一是加强审核。三是复核。\n"
        "(2)票据混乱\n一是建立台账。\n整改状态:阶段性完成\n2.2019年度预算执行不严\n一是追回资金3.2亿元。\n"
        "(二)正在整改的问题\n3.学习不深入\n计划于2020年6月前完成轮训。\n"
        "联系电话:0755-12345678;邮政地址:某市某路1号;电子邮箱:a@b.cn。"
    )
    original = parse(text)
    assert [p.number for p in original.problems] == ["1", "2", "3"]
    again = parse(render_text(original))
    assert tree(again) == tree(original)
    assert again.problems[1].heading == "2019年度预算执行不严"


@settings(max_examples=40, deadline=None)
@given(mutated())
def test_mutated_notices_round_trip(text):
    original = parse(text)
    assert tree(parse(render_text(original))) == tree(original)

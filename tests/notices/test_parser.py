"""The notice parser: the seed notice exactly, real-world variants, and never raising."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.notices.parser import parse
from portal.notices.text import NoticeInputError, decode

# Copies of shared/seed/: a real published notice (the demo imports it too) and the structure
# it must import to.
SEED = Path(__file__).resolve().parent / "fixtures"
NOTICE = (
    Path(__file__).resolve().parents[2]
    / "portal"
    / "demo"
    / "seed"
    / "nanshan-kjj-2020-rectification-notice.txt"
)
EXPECTED = SEED / "nanshan-kjj-2020-expected.json"


def tree(parsed):
    return [
        {
            "label": c["label"],
            "title": c["title"],
            "problems": [{k: p[k] for k in ("number", "title", "measure_labels")} for p in c["problems"]],
        }
        for c in parsed.to_json()["categories"]
    ]


def test_the_seed_imports_to_the_expected_structure():
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    parsed = parse(decode(NOTICE.read_bytes()))
    result = parsed.to_json()
    for key in (
        "title",
        "inspected_unit",
        "inspection_team",
        "inspection_start",
        "inspection_end",
        "feedback_date",
        "problems_stated",
    ):
        assert result[key] == expected[key], key
    assert tree(parsed) == expected["categories"]
    assert len(parsed.problems) == 15
    assert parsed.warnings == [
        "problem 1 “对基层科普工作重视不够”: measure labels 一、二、四 are not consecutive (kept as written)"
    ]
    deadlines = {d for p in parsed.problems for d in p.planned_deadlines}
    assert deadlines == set(expected["planned_deadlines_in_text"])
    amounts = sorted(a for p in parsed.problems for a in p.amounts)
    expected_amounts = sorted(
        Decimal(a.rstrip("万元")) * (10000 if "万" in a else 1) for a in expected["amounts_in_text"]
    )
    assert amounts == expected_amounts
    assert result["contact"] == {
        "phone": "26667710",
        "address": "深圳市南山区桃园路2号区委大院A1113",
        "email": "nsqkjj@szns.gov.cn",
    }
    first = parsed.categories[0].problems[0]
    assert first.deadline == date(2020, 4, 30) and first.status == "planned"
    recovery = parsed.categories[2].problems[1]
    assert recovery.money_to_recover == Decimal("361000.00")  # 16.1万元 + 20万
    assert recovery.deadline == date(2020, 12, 31)
    assert ("调研员", "廖惠英") in parsed.categories[2].problems[0].persons
    assert "组织领导" in parsed.report_text and "常抓不懈" in parsed.report_text


HEADER = "关于巡察整改情况的通报\n根据统一部署,2021年3月1日至4月30日,市委第三巡察组对市文化局党组开展了巡察。"


def test_clutter_before_the_title_is_skipped():
    text = (
        "首页 > 信息公开 > 通知公告\n索引号:123456-2021-00012\n发布日期:2021-07-01\n"
        "信息来源:市文化局\n浏览量:1024\n朗读\n• \nhttps://www.example.gov.cn/a.html\n\n\n\n"
        "中共某市文化局党组关于巡察整改情况的通报\n"
        "二、整改落实情况\n1.关于“资金管理不规范”问题\n一是建立台账。二是专项审计。"
    )
    parsed = parse(text)
    assert parsed.title == "中共某市文化局党组关于巡察整改情况的通报"
    assert tree(parsed) == [
        {
            "label": "",
            "title": "",
            "problems": [{"number": 1, "title": "资金管理不规范", "measure_labels": ["一", "二"]}],
        }
    ]


def test_full_width_and_ascii_punctuation_mix():
    text = (
        HEADER + "\n二、问题整改情况\n（一）关于“政治建设”方面的问题\n"
        "1．关于“理论学习不深入”的问题\n整改情况：一是制定学习计划；二是开展专题研讨。\n"
        "(二)关于“纪律建设”方面的问题\n2.公务用车管理不规范。\n整改落实情况:已完成车辆清查。"
    )
    parsed = parse(text)
    assert tree(parsed) == [
        {
            "label": "一",
            "title": "政治建设",
            "problems": [{"number": 1, "title": "理论学习不深入", "measure_labels": ["一", "二"]}],
        },
        {
            "label": "二",
            "title": "纪律建设",
            "problems": [{"number": 2, "title": "公务用车管理不规范", "measure_labels": []}],
        },
    ]
    assert parsed.problems[1].measures[0].text == "已完成车辆清查。"
    assert parsed.problems[1].status == "completed"
    assert parsed.inspection_start == date(2021, 3, 1) and parsed.inspection_end == date(2021, 4, 30)
    assert parsed.inspection_team == "市委第三巡察组" and parsed.inspected_unit == "市文化局党组"


def test_narrative_sections_are_not_problems():
    text = (
        HEADER + "\n一、加强组织领导\n(一)成立领导小组。一是明确分工。二是定期调度。\n"
        "二、整改落实情况\n1.对于“制度执行不严”问题的整改\n一是修订制度。\n"
        "三、坚持常抓不懈\n(一)巩固成果。一是持续跟踪。"
    )
    parsed = parse(text)
    assert [p.title for p in parsed.problems] == ["制度执行不严"]
    assert "成立领导小组" in parsed.report_text and "巩固成果" in parsed.report_text


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("1.对于“会议记录不规范”问题的整改", "会议记录不规范"),
        ("1.关于“会议记录不规范”问题", "会议记录不规范"),
        ("1.关于“会议记录不规范”的问题", "会议记录不规范"),
        ("1.会议记录不规范", "会议记录不规范"),
        ("1.会议记录不规范。", "会议记录不规范"),
        ("反馈问题一:关于 “会议记录不规范” 的问题", "会议记录不规范"),
        ("反馈问题一：关于“会议记录不规范”的问题", "会议记录不规范"),
    ],
)
def test_problem_markers(line, title):
    parsed = parse(HEADER + "\n二、整改情况\n" + line + "\n一是规范记录。二是专人归档。")
    assert [(p.number, p.title) for p in parsed.problems] == [("1", title)]
    assert [m.label for m in parsed.problems[0].measures] == ["一是", "二是"]


def test_chinese_numbered_problems_without_numbers():
    text = (
        HEADER + "\n二、整改情况\n(一)关于“会议记录不规范”问题的整改\n一是规范记录。\n"
        "(二)关于“档案管理混乱”问题的整改\n一是清理档案。二是建立制度。"
    )
    parsed = parse(text)
    assert [(p.number, p.title) for p in parsed.problems] == [("1", "会议记录不规范"), ("2", "档案管理混乱")]


def test_sub_problems():
    # Sub-problems (1)(2) stay under their problem (issue 17): one problem, whose measures are
    # those of its sub-problems, each marked with the sub-problem it is written under.
    text = (
        HEADER + "\n二、整改情况\n1.关于“财务管理”问题\n(1)报销审核不严\n一是加强审核。\n"
        "(2)票据管理混乱\n一是建立台账。"
    )
    parsed = parse(text)
    assert [(p.number, p.title) for p in parsed.problems] == [("1", "财务管理")]
    (problem,) = parsed.problems
    assert [(s.number, s.title) for s in problem.sub_problems] == [
        ("1", "报销审核不严"),
        ("2", "票据管理混乱"),
    ]
    assert [(m.sub_problem, m.label, m.text) for m in problem.measures] == [
        ("1", "一是", "加强审核。"),
        ("2", "一是", "建立台账。"),
    ]
    assert "(2)票据管理混乱" in problem.text  # what the imported item's feedback text shows
    assert parsed.warnings == []  # labels restart per sub-problem: no gap


def test_measures_as_paragraphs_and_starting_with_dates():
    text = (
        HEADER + "\n二、整改情况\n1.关于“培训不足”问题\n一是2021年5月组织全员培训。\n"
        "二是计划于2021年10月前完成轮训。\n四是建立长效机制。"
    )
    problem = parse(text).problems[0]
    assert [m.label for m in problem.measures] == ["一是", "二是", "四是"]
    assert problem.measures[0].text.startswith("2021年5月组织")
    assert problem.measures[1].deadline == date(2021, 10, 31)
    assert problem.deadline == date(2021, 10, 31)


def test_summary_counts_are_compared():
    text = (
        HEADER + "巡察反馈3个具体问题,整改完成2个,阶段性完成1个。\n二、整改情况\n"
        "1.问题甲\n整改状态:完成\n2.问题乙\n整改状态:阶段性完成"
    )
    parsed = parse(text)
    assert parsed.summary == {"total": 3, "completed": 2, "partial": 1}
    assert any("states 3 problems but 2 were found" in w for w in parsed.warnings)
    assert any("2 completed and 1 partly" in w for w in parsed.warnings)


def test_amount_units():
    problem = parse(HEADER + "\n二、整改情况\n1.问题\n追回资金3笔6.5万元,另退回6180元。").problems[0]
    assert problem.amounts == [Decimal("65000.00"), Decimal("6180.00")]
    assert problem.money_to_recover == Decimal("65000.00")


def test_decoding():
    text = "中共某局党组关于巡察整改情况的通报"
    assert decode(text.encode("gb18030")) == text
    assert decode("\ufeff".encode() + text.encode("utf-8")) == text
    for bad, message in (
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x00\x01\x02PK\x03\x04", "binary"),
        (bytes(range(128, 256)) * 4, "neither UTF-8 nor GB18030"),
    ):
        with pytest.raises(NoticeInputError, match=message):
            decode(bad)


def test_no_problems_is_a_warning_not_an_error():
    parsed = parse("随便一段文字,没有任何问题清单。")
    assert parsed.problems == [] and any("no problems found" in w for w in parsed.warnings)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400)
    | st.lists(
        st.sampled_from(
            [
                "一、",
                "二、",
                "(一)",
                "（二）",
                "1.",
                "反馈问题一:",
                "一是",
                "二是",
                "整改情况:",
                "“",
                "”",
                "计划于2020年",
                "13月",
                "万元",
                "\n",
                "关于巡察整改情况的通报",
                "。",
                "(1)",
                "2019年2月30日至3月1日",
                "巡察组对",
                "开展了巡察",
            ]
        ),
        max_size=60,
    ).map("".join)
)
def test_parse_never_raises(text):
    parsed = parse(text)
    assert isinstance(parsed.warnings, list)
    assert not any("internal parser error" in w for w in parsed.warnings)
    json.dumps(parsed.to_json(), ensure_ascii=False)

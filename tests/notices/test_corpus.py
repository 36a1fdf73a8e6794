"""Fourteen real notices (tests/notices/fixtures/corpus/) parse to the structure expected.json
gives them: categories, problems in order, measures, stated totals, team, period, feedback date
and amounts. A key expected.json leaves out is one the excerpt does not give: nothing invented."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from portal.notices.parser import parse

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def parsed(name):
    return parse((CORPUS / name).read_text(encoding="utf-8"))


def test_the_corpus_is_complete():
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.glob("*.txt"))
    assert len(EXPECTED) == 14


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_parses_to_its_expected_structure(name):
    expected = EXPECTED[name]
    notice = parsed(name)
    headed = [c for c in notice.categories if c.level]  # category headings, not "no category"
    assert len(headed) == expected["categories"]
    assert [c for c in notice.categories if not c.level and not c.problems] == []
    # Problems in order, by the first 20 characters of their heading as written.
    assert [p.heading[:20] for p in notice.problems] == expected["problems"]
    for problem in notice.problems:
        assert problem.title == problem.heading.rstrip("。")
    for heading, least in expected["measures_min"].items():
        (problem,) = [p for p in notice.problems if p.heading[:20] == heading]
        assert len(problem.measures) >= least, [m.label for m in problem.measures]
    assert notice.problems_stated == expected.get("stated_problems")
    assert notice.inspection_team == expected.get("team", "")
    period = [notice.inspection_start, notice.inspection_end]
    assert [d.isoformat() if d else None for d in period] == expected.get("period", [None, None])
    feedback = notice.feedback_date.isoformat() if notice.feedback_date else None
    assert feedback == expected.get("feedback_date")
    assert notice.amounts == [Decimal(a) for a in expected.get("amounts_yuan", [])]
    assert not any(w.code == "internal_error" for w in notice.warnings)
    json.dumps(notice.to_json(), ensure_ascii=False)


# What INDEX.md says each text states, beyond expected.json: the structured totals, the dates
# whose digits ran together, and the shape of the problems.
SUMMARIES = {
    "02_jiexi-shangsha-zhongxue.txt": {"total": 27, "aspects": 4, "classes": 13},
    "03_wufeng-xian-renmin-fayuan.txt": {"total": 30, "aspects": 3, "classes": 11},
    "04_ruijin-shi-shenji-zhenggai.txt": {
        "total": 50,
        "aspects": 4,
        "units": 29,
        "completed": 40,
        "partial": 0,
        "in_progress": 10,
    },
    "05_jianhu-xian-rongmeiti-zhongxin.txt": {"total": 33, "completed": 30, "partial": 0, "in_progress": 3},
}
UNCERTAIN = {
    "04_ruijin-shi-shenji-zhenggai.txt": ["20211228日", "2021915日"],
    "05_jianhu-xian-rongmeiti-zhongxin.txt": ["2023814日至1031", "1227", "20231227日", "2024620日"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stated_totals_and_uncertain_dates(name):
    notice = parsed(name)
    assert notice.summary == SUMMARIES.get(name, {})
    assert notice.uncertain_dates == UNCERTAIN.get(name, [])
    flagged = [w.params["text"] for w in notice.warnings if w.code == "uncertain_date"]
    assert flagged == UNCERTAIN.get(name, [])


def test_three_levels_keep_sub_problems_under_their_problem():
    hospital = parsed("01_chenzhou-dier-renmin-yiyuan.txt")
    (category,) = hospital.categories
    assert (category.label, category.title) == ("一", "巡察整改主体责任落实不到位,整改质效不高")
    (problem,) = category.problems
    assert [(s.number, s.title) for s in problem.sub_problems] == [("1", "结余药品管理、使用不规范")]
    assert [m.label for m in problem.measures] == ["一是", "二是", "三是"]
    assert {m.sub_problem for m in problem.measures} == {"1"}
    school = parsed("02_jiexi-shangsha-zhongxue.txt")
    (problem,) = school.problems
    assert [s.number for s in problem.sub_problems] == ["1", "2"]
    assert [len(s.measures) for s in problem.sub_problems] == [3, 2]
    assert [m.ordinal for m in problem.measures] == ["一", "二", "三", "一", "二"]
    assert not any(w.code == "measure_labels" for w in school.warnings)  # each (n) restarts
    assert school.to_json()["categories"][0]["problems"][0]["sub_problems"][1]["measure_labels"] == [
        "一",
        "二",
    ]


def test_organisational_sections_are_report_text():
    hospital = parsed("01_chenzhou-dier-renmin-yiyuan.txt")  # (一)(二) with inline 一是二是三是
    assert "(一)党委扛牢主体责任。" in hospital.report_text and "三是注重标本兼治" in hospital.report_text
    company = parsed("06_chengdu-konggang-chengshi-fazhan-jituan.txt")  # (一)标题。正文
    assert "(三)构建监督闭环,凝聚整改合力。" in company.report_text
    assert all("主体责任" not in p.title for p in hospital.problems)
    bureau = parsed("09_huiji-qu-xingzheng-shenpi-ju.txt")  # (一) 1. 2. 3. with no 一、 level
    assert bureau.categories == [] and "强化责任担当" in bureau.report_text


def test_status_groups_subject_sections_and_cut_headings():
    media = parsed("05_jianhu-xian-rongmeiti-zhongxin.txt")
    (group,) = media.categories
    assert (group.title, group.status, group.level) == ("已整改完成的问题", "completed", "category")
    audit = parsed("04_ruijin-shi-shenji-zhenggai.txt")
    (area,) = audit.categories
    assert (area.label, area.title, area.level) == ("一", "财政部门预算执行问题的整改情况", "section")
    assert audit.title == "关于2020年度市本级预算执行和其他财政收支审计查出问题整改情况的报告"
    # Breadcrumb, 访问量 and the title printed twice are page chrome.
    assert "访问量" not in audit.report_text and "关于2020年度" not in audit.report_text
    assert "您当前所在位置" not in audit.report_text and "受市人民政府委托" in audit.report_text
    court = parsed("03_wufeng-xian-renmin-fayuan.txt")
    assert court.categories == []
    assert [w.params for w in court.warnings if w.code == "cut_heading"] == [
        {"heading": "(一)在贯彻落实中央决策部署,履行职责"}
    ]
    assert any(w.code == "problem_count" and w.params == {"stated": 30, "found": 0} for w in court.warnings)


def test_page_chrome_is_not_text():
    notice = parsed("13_tongzhou-qu-rongmeiti-zhongxin.txt")
    assert notice.title == "中共北京市通州区融媒体中心党组关于巡察整改进展情况的通报"
    for chrome in ("设为首页", "首页 >", "来源:", "发布时间", notice.title):
        assert chrome not in notice.report_text
    ningbo = parsed("12_ningbo-shi-shenji-zhenggai.txt")
    assert ningbo.title.startswith("宁波市审计局关于2021年度")
    assert "->" not in ningbo.report_text and "浏览次数" not in ningbo.report_text

"""The genre's variants (issue 17), each in a small text of its own."""

from datetime import date
from decimal import Decimal

import pytest

from portal.notices.parser import parse
from portal.notices.text import normalise, to_simplified

TITLE = "中共某局党组关于巡察整改情况的通报"
OPENING = "根据区委统一部署,2021年3月1日至4月30日,区委第三巡察组对某局党组开展了巡察。"


def codes(notice):
    return [w.code for w in notice.warnings]


def titles(notice):
    return [(c.label, c.title, [(p.number, p.title) for p in c.problems]) for c in notice.categories]


# --- where the problems are -------------------------------------------------------------------


def test_organisational_paragraphs_in_the_opening_section_are_not_problems():
    text = "\n".join(
        [
            TITLE,
            OPENING,
            "一、整改工作开展情况",
            "(一)统一思想认识,加强组织领导。一是成立领导小组。二是制定整改方案。",
            "(二)坚持问题导向,压实工作责任",
            "对照反馈问题逐条研究。",
            "二、巡察反馈问题整改情况",
            "1.资金管理不规范",
            "整改情况:一是建立台账。二是专项审计。",
        ]
    )
    notice = parse(text)
    assert titles(notice) == [("", "", [("1", "资金管理不规范")])]
    assert "加强组织领导" in notice.report_text and "压实工作责任" in notice.report_text


def test_a_section_with_no_telling_heading_is_judged_by_what_it_holds():
    organisational = parse(
        f"{TITLE}\n{OPENING}\n一、主要做法\n(一)加强学习。全面学习。\n(二)优化机制。建立台账。"
    )
    assert organisational.categories == [] and "加强学习" in organisational.report_text
    problems = parse(
        f"{TITLE}\n{OPENING}\n三、整改落实主要成效\n(一)党的建设方面\n1.学习不深入\n整改情况:一是制定计划。"
    )
    assert titles(problems) == [("一", "党的建设方面", [("1", "学习不深入")])]


def test_opening_numbered_paragraphs_without_sections_are_narrative():
    # No 一、 level at all: (一) then 1. paragraphs with inline titles about organising the work.
    text = "\n".join(
        [
            "按照区委统一部署,2024年3月5日至4月18日,区委第一巡察组对区局党组开展了巡察。",
            "(一)党组书记组织落实整改工作情况",
            "1.强化责任担当,切实提高政治站位。收到反馈意见后立即成立领导小组。",
            "2.坚持问题导向,认真落实巡察意见。牵头制定整改方案。",
        ]
    )
    notice = parse(text)
    assert notice.categories == [] and "强化责任担当" in notice.report_text
    assert notice.inspection_team == "区委第一巡察组"


def test_three_levels_category_problem_sub_problem():
    text = "\n".join(
        [
            TITLE,
            OPENING,
            "二、巡察反馈问题整改进展情况",
            "(一)反馈问题:主体责任落实不到位。",
            "1.结余药品使用不规范。",
            "(1)结余药品管理不规范。   ",
            "整改情况:一是全面排查。二是建立专账。",
            "(2)台账不全",
            "整改情况:一是补齐台账。",
            "2.采购管理不严",
            "整改情况:一是修订制度。",
        ]
    )
    notice = parse(text)
    (category,) = notice.categories
    assert (category.label, category.title, category.heading) == (
        "一",
        "主体责任落实不到位",
        "反馈问题:主体责任落实不到位。",
    )
    first, second = category.problems
    assert (first.number, first.title, first.heading) == ("1", "结余药品使用不规范", "结余药品使用不规范。")
    assert [(s.number, s.title) for s in first.sub_problems] == [
        ("1", "结余药品管理不规范"),
        ("2", "台账不全"),
    ]
    assert [(m.sub_problem, m.label) for m in first.measures] == [("1", "一是"), ("1", "二是"), ("2", "一是")]
    assert second.sub_problems == [] and [m.text for m in second.measures] == ["修订制度。"]
    data = notice.to_json()["categories"][0]["problems"][0]
    assert data["sub_problems"][0]["measure_labels"] == ["一", "二"]
    assert data["measures"][2] == {"label": "一是", "text": "补齐台账。", "deadline": None, "sub_problem": 2}


def test_problems_at_the_category_level_and_flat_lists():
    chinese = parse(
        f"{TITLE}\n{OPENING}\n二、问题整改情况\n(一)关于“会议记录不规范”的问题\n(1)记录缺页\n一是补记。\n"
        "(二)关于“档案管理混乱”的问题\n一是清理档案。"
    )
    assert titles(chinese) == [("", "", [("1", "会议记录不规范"), ("2", "档案管理混乱")])]
    assert [s.title for s in chinese.problems[0].sub_problems] == ["记录缺页"]
    flat = parse(f"{TITLE}\n{OPENING}\n1.公车管理不规范\n一是清查车辆。\n2.票据管理混乱\n一是建立台账。")
    assert titles(flat) == [("", "", [("1", "公车管理不规范"), ("2", "票据管理混乱")])]


def test_a_subject_section_is_the_category_of_its_problems():
    notice = parse(
        "关于2021年度预算执行审计查出问题整改情况的报告\n一、财政管理审计查出问题的整改情况\n"
        "1.预算编制不细化\n已整改。\n二、部门预算执行审计查出问题的整改情况\n1.超范围支出\n已整改完成。"
    )
    assert titles(notice) == [
        ("一", "财政管理审计查出问题的整改情况", [("1", "预算编制不细化")]),
        ("二", "部门预算执行审计查出问题的整改情况", [("1", "超范围支出")]),
    ]
    assert [c.level for c in notice.categories] == ["section", "section"]


# --- status -----------------------------------------------------------------------------------


def test_status_headings_give_their_problems_a_status():
    notice = parse(
        f"{TITLE}\n{OPENING}\n二、整改落实情况\n(一)已整改完成的问题\n1.问题甲\n一是整改。\n"
        "(二)基本完成整改的问题(2个)\n2.问题乙\n一是推进。\n3.问题丙\n整改状态:完成\n"
        "(三)需长期坚持整改的问题\n4.问题丁\n一是持续。"
    )
    assert [(c.title, c.status) for c in notice.categories] == [
        ("已整改完成的问题", "completed"),
        ("基本完成整改的问题(2个)", "partial"),
        ("需长期坚持整改的问题", "in_progress"),
    ]
    # A status line beats the heading it is under.
    assert [p.status for p in notice.problems] == ["completed", "partial", "completed", "in_progress"]
    assert notice.to_json()["categories"][1]["status"] == "partial"


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("整改状态:完成", "completed"),
        ("整改状态:已完成", "completed"),
        ("整改状态：阶段性完成", "partial"),
        ("整改进度:正在整改", "in_progress"),
        ("整改状态:未完成", "planned"),
        ("整改状态:持续推进", "planned"),
    ],
)
def test_status_lines(line, status):
    notice = parse(f"{TITLE}\n{OPENING}\n二、整改情况\n1.问题甲\n一是建立台账。\n{line}")
    (problem,) = notice.problems
    assert problem.status == status
    assert [m.text for m in problem.measures] == ["建立台账。"]  # the status line is no measure


def test_status_suffix_of_a_title_and_of_sub_problems():
    notice = parse(
        f"{TITLE}\n{OPENING}\n二、整改情况\n1.制度不健全(已完成)\n一是修订制度。\n2.台账不全\n"
        "(1)缺台账\n整改状态:完成\n(2)缺凭证\n整改状态:阶段性完成"
    )
    first, second = notice.problems
    assert (first.title, first.status) == ("制度不健全", "completed")
    assert [s.status for s in second.sub_problems] == ["completed", "partial"]
    assert second.status == "partial"


# --- measures ---------------------------------------------------------------------------------


def test_inline_measures_with_skipped_labels_are_kept_as_written():
    notice = parse(
        f"{TITLE}\n{OPENING}\n二、整改情况\n1.学习不深入\n"
        "整改情况:一是提高政治觉悟。二是压实整改责任。坚持立行立改。四是强化标本兼治。"
    )
    (problem,) = notice.problems
    assert [m.label for m in problem.measures] == ["一是", "二是", "四是"]
    assert problem.measures[1].text == "压实整改责任。坚持立行立改。"
    assert codes(notice) == ["measure_labels"]
    assert notice.warnings[0].params == {"number": "1", "title": "学习不深入", "labels": "一、二、四"}


def test_measures_after_a_colon_in_one_paragraph():
    (problem,) = parse(
        f"{TITLE}\n{OPENING}\n二、整改情况\n1.问题甲\n采取以下措施:一是建账。二是核查。"
    ).problems
    assert [(m.label, m.text) for m in problem.measures] == [
        ("一是", "采取以下措施: 建账。"),
        ("二是", "核查。"),
    ]


# --- stated totals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "summary"),
    [
        ("针对巡察中发现的四方面13类共27项问题整改情况如下:", {"total": 27, "aspects": 4, "classes": 13}),
        ("对照巡察组反馈的3个方面11类问题30项问题的具体表现。", {"total": 30, "aspects": 3, "classes": 11}),
        (
            "《审计报告》反映涉及4个方面、29个单位(部门)共计50项具体问题,报告日已整改40项,正在整改10项(含部分整改)。",
            {"total": 50, "aspects": 4, "units": 29, "completed": 40, "partial": 0, "in_progress": 10},
        ),
        (
            "截至2024年6月20日,巡察反馈的33个具体问题,已完成整改30个,正在整改的3个。",
            {"total": 33, "completed": 30, "partial": 0, "in_progress": 3},
        ),
        ("巡察共反映1263个问题,已整改1153个。", {"total": 1263, "completed": 1153, "partial": 0}),
        ("巡察反馈3个具体问题,整改完成2个,阶段性完成1个。", {"total": 3, "completed": 2, "partial": 1}),
        ("对反馈的15项问题反复研究。", {"total": 15}),
        ("对2016年经责审计提出的21个问题进行持续整改。", {}),  # another audit's count
        ("共指出413个方面33个问题。", {"total": 33}),  # 4、13 ran together: no aspects guessed
    ],
)
def test_stated_totals(sentence, summary):
    notice = parse(f"{TITLE}\n{OPENING}{sentence}")
    assert notice.summary == summary
    assert notice.problems_stated == summary.get("total")
    assert notice.to_json()["summary"] == summary


def test_stated_totals_are_reconciled_with_what_was_found():
    notice = parse(
        f"{TITLE}\n{OPENING}巡察反馈的2个方面共3个问题,已完成整改1个,正在整改的2个。\n二、整改情况\n"
        "(一)党建方面\n1.问题甲\n整改状态:完成\n2.问题乙\n整改状态:完成"
    )
    assert notice.summary == {"total": 3, "aspects": 2, "completed": 1, "partial": 0, "in_progress": 2}
    by_code = {w.code: w.params for w in notice.warnings}
    assert by_code["problem_count"] == {"stated": 3, "found": 2}
    assert by_code["aspect_count"] == {"stated": 2, "found": 1}
    assert by_code["status_count"]["completed"] == 2
    assert by_code["in_progress_count"] == {"stated": 2, "found": 0}


def test_sub_problems_may_be_what_the_total_counts():
    notice = parse(
        f"{TITLE}\n{OPENING}共反馈3项问题。\n二、整改情况\n1.问题甲\n(1)子一\n一是整改。\n(2)子二\n一是整改。\n"
        "2.问题乙\n一是整改。"
    )
    assert notice.problems_stated == 3 and len(notice.problems) == 2
    assert "problem_count" not in codes(notice)  # 2 problems, 3 items counting sub-problems


# --- teams, periods, dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "team"),
    [
        (
            "2019年9月2日至11月29日,十二届南通市委第八轮巡察二组对江苏省海门中学进行了巡察。",
            "十二届南通市委第八轮巡察二组",
        ),
        ("2020年6月1日至8月31日,七届市委第十二轮巡察一组对我院党组开展了巡察。", "七届市委第十二轮巡察一组"),
        ("2020年7月20日至8月19日,市县联动巡察组对县法院党组进行了巡察。", "市县联动巡察组"),
        ("2024年12月26日至2025年1月26日,市委巡察二组对市融媒体中心党委开展了巡察。", "市委巡察二组"),
        ("2019年9月9日至11月25日,中央第四巡视组对最高人民检察院党组开展了常规巡视。", "中央第四巡视组"),
        ("2019年9月9日至11月8日,区委第二巡察组对区科技创新局党组开展了巡察。", "区委第二巡察组"),
        ("2023年8月14日至10月31日县委第三巡组对县融媒体中心党委开展了常规巡察。", ""),  # 巡组: damaged
    ],
)
def test_teams(sentence, team):
    assert parse(f"{TITLE}\n{sentence}").inspection_team == team


@pytest.mark.parametrize(
    ("sentence", "start", "end", "feedback"),
    [
        (
            "2019年9月2日至11月29日,巡察二组对学校进行了巡察。2019年12月18日,向学校党委反馈了巡察意见。",
            date(2019, 9, 2),
            date(2019, 11, 29),
            date(2019, 12, 18),
        ),
        (
            "2019年9月9日至11月8日,区委第二巡察组对局党组开展了巡察。12月10日,区委第二巡察组向局党组反馈了巡察意见。",
            date(2019, 9, 9),
            date(2019, 11, 8),
            date(2019, 12, 10),
        ),
        (  # the relative dates run into the next year
            "2019年12月2日至1月20日,市委第一巡察组对局党组开展了巡察。3月5日,市委第一巡察组向局党组反馈了巡察意见。",
            date(2019, 12, 2),
            date(2020, 1, 20),
            date(2020, 3, 5),
        ),
        (
            "2020年7月20日至8月19日,市县联动巡察组对法院党组进行了巡察,并于2020年9月29日反馈了巡察意见。",
            date(2020, 7, 20),
            date(2020, 8, 19),
            date(2020, 9, 29),
        ),
        (
            "2024年5月16日,区委第一巡察组向我局反馈了巡察意见。2020年10月26日,党组制定《关于巡察反馈意见的整改方案》。",
            None,
            None,
            date(2024, 5, 16),
        ),
    ],
)
def test_periods_and_feedback_dates(sentence, start, end, feedback):
    notice = parse(f"{TITLE}\n{sentence}")
    assert (notice.inspection_start, notice.inspection_end, notice.feedback_date) == (start, end, feedback)


def test_dates_whose_digits_ran_together_are_flagged_not_guessed():
    notice = parse(
        f"{TITLE}\n根据县委统一部署,2023814日至1031县委第三巡组对中心党委开展了常规巡察。"
        "1227县委巡察组向中心党委反馈巡察意见。截至2024620日,整改取得成效。"
    )
    assert (notice.inspection_start, notice.inspection_end, notice.feedback_date) == (None, None, None)
    assert notice.uncertain_dates == ["2023814日至1031", "1227", "2024620日"]
    assert codes(notice).count("uncertain_date") == 3
    assert notice.to_json()["uncertain_dates"] == notice.uncertain_dates


# --- amounts, characters, chrome --------------------------------------------------------------


def test_amounts_in_wan_and_yi_yuan():
    notice = parse(
        f"{TITLE}\n{OPENING}问题资金251023.54万元,涉及金额237054.47 万元,已清理用地款1.05亿元,退回6180元,"
        "5万元(含)以上的项目全部比价。\n二、整改情况\n1.问题甲\n追回资金2笔3.2亿元。"
    )
    assert notice.amounts == [
        Decimal("2510235400.00"),
        Decimal("2370544700.00"),
        Decimal("105000000.00"),
        Decimal("6180.00"),
        Decimal("320000000.00"),
    ]
    assert notice.problems[0].amounts == [Decimal("320000000.00")]
    assert notice.to_json()["amounts"][2] == "105000000.00"


def test_traditional_characters_parse_like_simplified():
    simplified = (
        "中共某局党组关于巡察整改情况的通报\n根据区委统一部署,2021年3月1日至4月30日,区委第三巡察组对某局党组开展了巡察。"
        "共反馈3项问题。\n二、巡察反馈问题整改情况\n(一)关于“党的建设”方面的问题\n1.会议记录不规范\n"
        "整改情况:一是规范记录。二是专人归档。整改状态:已完成"
    )
    traditional = (
        "中共某局黨組關於巡察整改情況的通報\n根據區委統一部署,2021年3月1日至4月30日,區委第三巡察組對某局黨組開展了巡察。"
        "共反饋3項問題。\n二、巡察反饋問題整改情況\n（一）關於「黨的建設」方面的問題\n1.會議記錄不規範\n"
        "整改情況：一是規範記錄。二是專人歸檔。整改狀態：已完成"
    )
    assert to_simplified("黨組關於巡察整改情況的通報") == "党组关于巡察整改情况的通报"
    assert normalise("「第一議題」學習不到位") == "“第一议题”学习不到位"
    assert parse(traditional).to_json() == parse(simplified).to_json()


def test_page_chrome_is_ignored():
    text = "\n".join(
        [
            "关怀版 无障碍",
            "您当前所在位置: 首页 > 政务公开 > 通知公告",
            TITLE,
            "访问量:",
            TITLE,
            "来源:区纪委区监委",
            "发布时间:2026-01-16",
            "建湖日报数字报 2024-07-12",
            "-> 要闻 -> 审计通告",
            "【打印】【关闭】",
            OPENING,
            "二、整改情况",
            "1.问题甲",
            "一是整改。",
            "- 2 -",
            "第2页 共3页",
            "二是复查。",
        ]
    )
    notice = parse(text)
    assert notice.title == TITLE
    assert [m.text for m in notice.problems[0].measures] == ["整改。", "复查。"]
    assert notice.report_text == OPENING
    assert codes(notice) == []


def test_a_heading_that_ends_the_text_is_taken_as_cut_off():
    notice = parse(
        f"{TITLE}\n{OPENING}\n二、具体问题整改情况\n1.问题甲\n一是整改。\n(二)在贯彻落实中央决策部署,履行"
    )
    assert [p.title for p in notice.problems] == ["问题甲"] and len(notice.categories) == 1
    assert codes(notice) == ["cut_heading"]


def test_a_heading_may_start_with_a_year_but_a_decimal_is_no_heading():
    notice = parse(
        f"{TITLE}\n{OPENING}\n二、整改情况\n1.2019年度预算执行不严\n1.05亿元已追回。\n2.5%的项目未验收\n2.问题乙\n一是整改。"
    )
    assert [p.title for p in notice.problems] == ["2019年度预算执行不严", "问题乙"]
    assert notice.problems[0].amounts == [Decimal("105000000.00")]


def test_an_organisational_word_in_a_heading_that_holds_problems():
    # 领导 would make the section organisational, but its lines are problems with 整改情况.
    notice = parse(
        f"{TITLE}\n{OPENING}\n一、加强组织领导\n(一)成立领导小组。一是明确分工。\n"
        "二、党的领导弱化方面\n1.学习不深入\n整改情况:一是制定计划。\n三、坚持问题导向,全方面推进整改\n(一)持续跟踪。定期回头看。"
    )
    assert [(c.title, [p.title for p in c.problems]) for c in notice.categories] == [
        ("党的领导弱化方面", ["学习不深入"])
    ]
    assert "成立领导小组" in notice.report_text and "持续跟踪" in notice.report_text


def test_problems_numbered_1_in_parentheses_when_nothing_is_above_them():
    notice = parse(
        f"{TITLE}\n{OPENING}\n二、整改情况\n(1)公车管理不规范\n一是清查车辆。\n(2)票据管理混乱\n一是建立台账。"
    )
    assert titles(notice) == [("", "", [("1", "公车管理不规范"), ("2", "票据管理混乱")])]

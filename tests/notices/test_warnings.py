"""Parser warnings: codes and parameters from the parser, sentences in the user's language."""

import copy
import re
from dataclasses import asdict
from pathlib import Path

from flask_babel import force_locale

from portal.notices import parser
from portal.notices.messages import WARNINGS, warning_text
from portal.notices.parser import ParseWarning, parse
from tests.notices.test_import_page import upload_text
from tests.notices.test_parser import HEADER, NOTICE

COUNTS = (
    HEADER + "巡察反馈3个具体问题,整改完成2个,阶段性完成1个。\n二、整改情况\n"
    "1.问题甲\n整改状态:完成\n2.问题乙\n整改状态:阶段性完成"
)


def test_every_warning_the_parser_writes_has_a_message():
    source = Path(parser.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'ParseWarning\(\s*"(\w+)"', source))
    assert codes == set(WARNINGS), codes ^ set(WARNINGS)


def test_a_warning_is_its_english_text_with_a_code():
    (warning,) = parse(NOTICE.read_text(encoding="utf-8")).warnings
    assert warning.code == "measure_labels"
    assert warning.params == {"number": "1", "title": "对基层科普工作重视不够", "labels": "一、二、四"}
    assert "一、二、四 are not consecutive" in warning  # what --json, the CLI and the log show
    for clone in (copy.deepcopy(warning), asdict(parse(COUNTS))["warnings"][0]):
        assert isinstance(clone, ParseWarning) and clone.code and clone == str(clone)
    assert copy.deepcopy(warning).params == warning.params


def test_warnings_in_chinese_and_english(app):
    warnings = parse(COUNTS).warnings + parse("随便一段文字,没有任何问题清单。").warnings
    with app.test_request_context():
        with force_locale("zh"):
            chinese = [warning_text(w) for w in warnings]
        with force_locale("en"):
            english = [warning_text(w) for w in warnings]
    assert "通报写明共 3 个问题，但只识别出 2 个。" in chinese
    assert "通报统计已完成 2 个、阶段性完成 1 个问题；按各问题的整改状态统计分别为 1 个和 1 个。" in chinese
    assert "未找到任何问题。这是一份整改情况通报吗？" in chinese
    assert "The text states 3 problems, but 2 were found." in english
    assert "No problems were found. Is this a rectification notice?" in english
    assert warning_text("an old warning without a code") == "an old warning without a code"


def test_the_preview_shows_warnings_in_the_users_language(world, signed_in):
    office = signed_in("office")
    text = NOTICE.read_text(encoding="utf-8")
    page = upload_text(office, text).text
    assert "问题 1“对基层科普工作重视不够”：措施序号 一、二、四 不连续（已按原文保留）。" in page
    assert "are not consecutive" not in page
    office.post_form("/language", {"lang": "en", "next": "/"})
    page = upload_text(office, text).text
    assert "Problem 1 “对基层科普工作重视不够”: the measure labels 一、二、四 are not consecutive" in page

"""Never a crash: the parser over mutated real notices (cut, lines duplicated, punctuation mixed,
CRLF). Timing is shown by bench/notice_parse.py, not asserted here."""

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.notices.parser import parse
from portal.notices.render import render_text
from tests.notices.test_parser import NOTICE

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))] + [
    NOTICE.read_text(encoding="utf-8")
]
FULL_WIDTH = {",": "，", ":": "：", "(": "（", ")": "）", ";": "；"}


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(TEXTS))
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 3))):  # duplicated lines
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(draw(st.integers(0, len(lines))), lines[i])
    if draw(st.booleans()):  # lines dropped
        i = draw(st.integers(0, len(lines) - 1))
        del lines[i : i + draw(st.integers(1, 4))]
    text = "\n".join(lines)
    if text and draw(st.booleans()):  # a random cut, as the excerpts are
        start = draw(st.integers(0, len(text) // 3))
        text = text[start : draw(st.integers(start, len(text)))]
    return text


def mix_punctuation(text, seed):
    """Every other ASCII , : ( ) ; (by `seed`) in its full-width form."""
    out, n = [], seed
    for ch in text:
        if ch in FULL_WIDTH:
            n += 1
            out.append(FULL_WIDTH[ch] if n % 2 else ch)
        else:
            out.append(ch)
    return "".join(out)


def check(notice):
    assert not any(w.code == "internal_error" for w in notice.warnings), notice.warnings
    json.dumps(notice.to_json(), ensure_ascii=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.integers(0, 1), st.booleans())
def test_mutated_notices_parse_without_error(text, seed, crlf):
    notice = parse(text)
    check(notice)
    variant = mix_punctuation(text, seed)
    if crlf:
        variant = variant.replace("\n", "\r\n")
    again = parse(variant)
    check(again)
    # Full-width and ASCII punctuation, LF and CRLF: one notice.
    assert again.to_json() == notice.to_json()
    check(parse(render_text(notice)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "一、组织领导",
                "二、巡察反馈问题整改情况",
                "(一)已整改完成的问题",
                "(二)反馈问题:",
                "1.",
                "2.问题。正文",
                "(1)",
                "(2)子问题",
                "整改情况:",
                "一是",
                "三是",
                "整改状态:阶段性完成",
                "四方面13类共27项问题",
                "33个具体问题,已完成整改30个,正在整改的3个",
                "2023814日至1031",
                "12月18日,向学校党委反馈了巡察意见",
                "十二届南通市委第八轮巡察二组对",
                "1.05亿元",
                "237054.47 万元",
                "首页 > 通知",
                "關於巡察整改情況的通報",
                "\n",
                "\r\n",
                "。",
                "，",
            ]
        ),
        max_size=80,
    ).map("".join)
)
def test_genre_fragments_parse_without_error(text):
    check(parse(text))

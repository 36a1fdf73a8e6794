"""Notice parse time: 20 KB texts built from the corpus and the seed, plain and mutated.

Target (issue 17): every parse of 20 KB of text under 100 ms. Pure Python, no database; it
takes a few seconds on one core.

    .venv/bin/python bench/notice_parse.py            # 20 runs of each text
    .venv/bin/python bench/notice_parse.py --runs 50

Texts (each cut to 20 KB of UTF-8):
- corpus: the 14 corpus notices and the seed, one after the other, again and again;
- seed-problems: the seed's problem section repeated (hundreds of problems and measures);
- mutated-N: the corpus text with lines duplicated and dropped, random cuts, full-width and
  ASCII punctuation mixed and CRLF line ends (random, seeded);
- one-line: the corpus text with every line break removed (one 20 KB line);
- adversarial: runs of markers that tempt a backtracking regular expression (dates without
  反馈, 关于… without its end, digits run together, (一)(1)1. headings, 一是 without end,
  one problem of hundreds of lines, planned months and amounts by the dozen).

Exit status 1 when a parse takes 100 ms or more.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal.notices.parser import parse  # noqa: E402

CORPUS = ROOT / "tests" / "notices" / "fixtures" / "corpus"
SEED = ROOT / "portal" / "demo" / "seed" / "nanshan-kjj-2020-rectification-notice.txt"
SIZE = 20 * 1024  # bytes of UTF-8
TARGET_MS = 100.0
FULL_WIDTH = {",": "，", ":": "：", "(": "（", ")": "）", ";": "；"}


def cut(text: str, size: int = SIZE) -> str:
    """`text` repeated or cut to `size` bytes of UTF-8 (at a character boundary)."""
    while len(text.encode("utf-8")) < size:
        text += "\n" + text
    return text.encode("utf-8")[:size].decode("utf-8", errors="ignore")


def mutate(text: str, rnd: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rnd.randint(5, 40)):
        i = rnd.randrange(len(lines))
        lines.insert(rnd.randrange(len(lines) + 1), lines[i])
    for _ in range(rnd.randint(0, 10)):
        i = rnd.randrange(len(lines))
        del lines[i : i + rnd.randint(1, 5)]
    for _ in range(rnd.randint(0, 20)):  # cut a line somewhere
        i = rnd.randrange(len(lines))
        lines[i] = lines[i][: rnd.randint(0, len(lines[i]))]
    text = "".join(FULL_WIDTH[c] if c in FULL_WIDTH and rnd.random() < 0.5 else c for c in "\n".join(lines))
    return text.replace("\n", "\r\n") if rnd.random() < 0.5 else text


def adversarial() -> str:
    pieces = [
        "关于巡察" * 100,
        "3月1日,巡察组向" * 60,
        "2023814日至1031" * 40,
        "\n".join(f"({n % 9 + 1}){'子问题' * 3}" for n in range(60)),
        "\n".join(f"{n % 99 + 1}.问题标题" for n in range(60)),
        "一是" * 150,
        "四方面13类共" * 60,
        "首页 > " * 60,
        "1" * 1000,
        "“" * 200,
        "反馈问题一:" * 50,
        "二、整改情况\n1.问题\n" + "一是\n" * 300,  # one problem of very many lines
        "计划于2020年5月前完成,并于6月底" * 30,
        "追回资金3笔6.5万元," * 40,
    ]
    text = "\n".join(pieces)
    assert len(text.encode("utf-8")) <= SIZE, "every piece within the 20 KB"
    return cut(text)


def texts(mutations: int) -> dict[str, str]:
    notices = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]
    seed = SEED.read_text(encoding="utf-8")
    corpus = "\n".join([*notices, seed])
    section = seed[seed.index("二、对照问题清单") : seed.index("三、坚持常抓不懈")]
    built = {
        "corpus": cut(corpus),
        "seed-problems": cut(seed[: seed.index("二、对照问题清单")] + section * 10),
        "one-line": cut(corpus.replace("\n", "")),
        "adversarial": adversarial(),
    }
    rnd = random.Random(17)
    for n in range(mutations):
        built[f"mutated-{n + 1}"] = cut(mutate(corpus, rnd))
    return built


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--runs", type=int, default=20, help="parses of each text (default 20)")
    arguments.add_argument("--mutations", type=int, default=10, help="mutated texts (default 10)")
    options = arguments.parse_args()
    every: list[float] = []
    print(f"{'text':<16}{'KB':>6}{'chars':>8}{'problems':>10}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}")
    for name, text in texts(options.mutations).items():
        parse(text)  # warm up (regular expressions compiled, caches filled)
        times = []
        for _ in range(options.runs):
            start = time.perf_counter()
            notice = parse(text)
            times.append((time.perf_counter() - start) * 1000)
        every += times
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        print(
            f"{name:<16}{len(text.encode('utf-8')) / 1024:>6.1f}{len(text):>8}{len(notice.problems):>10}"
            f"{statistics.median(times):>11.1f}{p95:>9.1f}{max(times):>9.1f}"
        )
    p95 = statistics.quantiles(every, n=20)[-1]
    verdict = "within" if max(every) < TARGET_MS else "OVER"
    print(
        f"\nall {len(every)} parses: p95 {p95:.1f} ms, max {max(every):.1f} ms; "
        f"target {TARGET_MS:.0f} ms: {verdict}"
    )
    return 0 if max(every) < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())

"""The bigram tokens: what a document is indexed as and what a query looks for."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.search import tokens
from portal.search.tokens import Phrase, QueryProblem

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


def test_a_chinese_run_becomes_its_overlapping_bigrams():
    assert tokens.tokens("整改措施") == ["整改", "改措", "措施"]


def test_runs_of_letters_and_digits_are_words_folded_by_nfkc_and_case():
    assert tokens.tokens("ＰＲＩＶＡＴＥ-２０２４ Report") == ["private", "2024", "report"]


def test_a_single_chinese_character_between_other_runs_stays_a_token():
    assert tokens.tokens("公车2024年") == ["公车", "2024", "年"]


def test_a_very_long_word_is_indexed_by_its_beginning_and_still_found():
    text = "abc" * 2700  # 8,100 characters: beyond what PostgreSQL keeps in a lexeme
    (token,) = tokens.tokens(text)
    assert len(token.encode()) <= 2047 and text.startswith(token)
    (term,) = tokens.parse("abc" * 13)
    assert _found(term.phrases[0], tokens.tokens(text))


def test_punctuation_separates_runs():
    assert tokens.tokens("整改，落实。") == ["整改", "落实"]


def test_a_two_character_term_is_one_whole_bigram():
    (term,) = tokens.parse("整改")
    assert term.phrases == (Phrase(("整改",)),)


def test_a_longer_term_is_a_phrase_of_bigrams():
    (term,) = tokens.parse("产业用房")
    assert term.phrases == (Phrase(("产业", "业用", "用房")),)


def test_a_word_is_found_by_its_beginning():
    (term,) = tokens.parse("PRIV")
    assert term.phrases == (Phrase(("priv",), prefix=True),)


def test_a_trailing_single_character_is_a_prefix_of_the_next_bigram():
    (term,) = tokens.parse("2024年")
    assert term.phrases == (Phrase(("2024", "年"), prefix=True),)


@pytest.mark.parametrize(
    ("query", "kind"),
    [("整", "too_short"), (" ".join(["词语"] * 9), "too_many"), ("长" * 41, "too_long")],
)
def test_unsearchable_queries_say_why(query, kind):
    with pytest.raises(QueryProblem) as caught:
        tokens.parse(query)
    assert caught.value.kind == kind


def test_repeated_terms_count_once_and_blank_queries_have_none():
    assert len(tokens.parse("整改 整改")) == 1
    assert tokens.parse("   ") == [] and tokens.parse("，。") == []


def test_the_database_literals():
    (phrase,) = tokens.parse("整改措施")[0].phrases
    assert tokens.fts5_match(phrase) == '"整改 改措 措施"'
    assert tokens.tsquery(phrase) == "'整改' <-> '改措' <-> '措施'"
    assert tokens.tsquery(Phrase(("priv",), prefix=True)) == "'priv':*"
    assert tokens.tsvector("整改措施") == "'整改':1 '改措':2 '措施':3"


def _found(phrase: Phrase, document: list[str]) -> bool:
    """Whether the phrase occurs in the token list as the index matches it."""
    n = len(phrase.tokens)
    for at in range(len(document) - n + 1):
        window = document[at : at + n]
        if window[:-1] == list(phrase.tokens[:-1]) and (
            window[-1].startswith(phrase.tokens[-1]) if phrase.prefix else window[-1] == phrase.tokens[-1]
        ):
            return True
    return False


@given(st.text(CJK, min_size=2, max_size=30), st.data())
def test_every_chinese_substring_of_two_or_more_characters_is_found(text, data):
    start = data.draw(st.integers(0, len(text) - 2))
    end = data.draw(st.integers(start + 2, len(text)))
    (term,) = tokens.parse(text[start:end])
    document = tokens.tokens(text)
    assert all(_found(phrase, document) for phrase in term.phrases)


@given(st.text(CJK, min_size=2, max_size=12), st.text(CJK, min_size=2, max_size=12))
def test_a_term_not_in_the_text_is_not_found(text, other):
    (term,) = tokens.parse(other)
    found = all(_found(phrase, tokens.tokens(text)) for phrase in term.phrases)
    assert found == (other in text)


def test_marks_and_snippets_highlight_the_terms():
    terms = tokens.parse("措施")
    assert tokens.marks("整改措施落实", terms) == [(2, 4)]
    text = "前" * 100 + "整改措施" + "后" * 100
    pieces = tokens.snippet(text, terms, width=40)
    assert pieces[0] == ("…", False) and pieces[-1] == ("…", False)
    assert ("措施", True) in pieces
    assert sum(len(p) for p, marked in pieces if p != "…") == 40

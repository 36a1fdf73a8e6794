"""The password policy: a length range, never only spaces, not on the shipped list of common
passwords, and zxcvbn's estimate of at least 3 ("safely unguessable") with the account's
login name and display name counted as words an attacker knows.

There are no composition rules (a mix of letter kinds is not asked for): length and the
estimate measure what matters. The policy is checked by the forms (for the message beside the
field) and again by the operations that set a password, so that the command line and any other
caller meet it too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 3
#: zxcvbn refuses longer input; a longer password is estimated by its first 72 characters.
_ESTIMATE_LENGTH = 72
_LIST = Path(__file__).resolve().with_name("common_passwords.txt")


@functools.cache
def _common() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


class _Common:
    """The shipped list, read on first use."""

    def __contains__(self, password: object) -> bool:
        return isinstance(password, str) and password.strip().lower() in _common()

    def __len__(self) -> int:
        return len(_common())


COMMON_PASSWORDS = _Common()


def _known_words(user_inputs: Iterable[str | None]) -> list[str]:
    """The login and name, whole and in the parts a login is made of (zhang.san → zhang, san)."""
    words = []
    for value in user_inputs:
        value = (value or "").strip().lower()
        if not value:
            continue
        words.append(value)
        for separator in ".-_ ":
            value = value.replace(separator, " ")
        words.extend(part for part in value.split() if len(part) >= 3)
    return words


def password_problem(password: str, user_inputs: Iterable[str | None] = ()):
    """Return why `password` is refused (a lazy, translatable message), or None when it is good."""
    password = password or ""
    if not password.strip():
        return _l("The password cannot consist of spaces only.")
    if len(password) < MIN_LENGTH:
        return _l("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("The password can have at most %(n)d characters.", n=MAX_LENGTH)
    if password in COMMON_PASSWORDS:
        return _l("This password is on the list of commonly used passwords. Please choose another.")
    words = _known_words(user_inputs)
    lowered = password.lower()
    if any(lowered.strip() == word for word in words):
        return _l("The password cannot be your login name or your name.")
    from zxcvbn import zxcvbn  # (imported when used: its word lists cost 30 ms at every start)

    result = zxcvbn(password[:_ESTIMATE_LENGTH], user_inputs=words)
    if result["score"] < MIN_SCORE:
        return _l(
            "This password is too easy to guess. Use a longer phrase of several unrelated "
            "words; avoid repeats, keyboard rows, years and your own name or login."
        )
    return None

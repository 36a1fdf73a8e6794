"""Small helpers shared by the form modules, and the checks every text field gets.

Every form of the portal derives from `PortalForm` (a posted form, with its CSRF token) or
`PortalSubForm` (the rows of a posted form, a GET filter). Their fields that take text refuse
control characters before any other check (NUL, escape, C1 … ; tab, CR and LF only in a text
box), so that no database is handed what it cannot store. Length limits (`max_length`) and
amounts of money (`MoneyField`) say what is wrong in the user's language and keep what was typed.
The plain checks (`control_characters`, `money_problem`, `blank`) serve the operations and
readers of files too.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, Form, HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


# --- control characters ---------------------------------------------------------------------

#: C0 controls, DEL and C1 controls; tab, LF and CR are allowed in multi-line text only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CONTROL_MESSAGE = _l(
    "Remove the control characters (such as NUL, or other invisible characters) from this field: "
    "they cannot be stored."
)


def control_characters(text: str, multiline: bool = True) -> bool:
    """Does `text` hold a character no field accepts (`multiline`: tab, CR and LF are fine)?"""
    return (_CONTROL_IN_TEXT if multiline else _CONTROL).search(text) is not None


class NoControlCharacters:
    """Refuse control characters; stops the chain, so that no later check sees them."""

    def __init__(self, multiline: bool):
        self.multiline = multiline

    def __call__(self, form, field) -> None:
        values = field.raw_data or ([field.data] if isinstance(field.data, str) else [])
        if any(isinstance(v, str) and control_characters(v, self.multiline) for v in values):
            field.errors[:] = []
            if isinstance(field, HiddenField) and str(CONTROL_MESSAGE) not in form.form_errors:
                form.form_errors.append(str(CONTROL_MESSAGE))  # no one sees a hidden field's errors
            raise StopValidation(str(CONTROL_MESSAGE))


class _TextChecks:
    """Form meta: every text field (a StringField: one-line inputs, text boxes, hidden fields)
    refuses control characters first."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [NoControlCharacters(isinstance(field, TextAreaField)), *field.validators]
        return field


class PortalForm(FlaskForm):
    """A posted form (CSRF-protected) whose text fields refuse control characters."""

    class Meta(_TextChecks):
        pass


class PortalSubForm(Form):
    """Rows inside a posted form (FormField), or a GET filter form: the same text checks."""

    class Meta(_TextChecks):
        pass


# --- lengths --------------------------------------------------------------------------------

LENGTH_MESSAGE = _l("At most %(max)s characters, please (this has %(length)s).")


def length_message(limit: int, length: int) -> str:
    return str(LENGTH_MESSAGE) % {"max": f"{limit:,}", "length": f"{length:,}"}


class MaxLength:
    """At most `limit` characters; the message gives the limit and the length typed."""

    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and len(field.data) > self.limit:
            raise ValidationError(length_message(self.limit, len(field.data)))


def max_length(limit: int) -> MaxLength:
    return MaxLength(limit)


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def blank(text: str | None) -> bool:
    """Nothing but white space and invisible characters (zero-width spaces, BOM)?"""
    return not (text or "").translate(_INVISIBLE).strip()


# --- money ----------------------------------------------------------------------------------

CENT = Decimal("0.01")
#: Amounts are yuan with fen: 0 ≤ amount < 10^12 (the columns are NUMERIC(14, 2)).
MONEY_LIMIT = Decimal(10) ** 12
MONEY_MESSAGE = _l(
    "Enter an amount in yuan from 0 to 999,999,999,999.99 with at most two decimals, for example 161000.50."
)
NEGATIVE_MESSAGE = _l("Amounts cannot be negative.")
#: What a person types: digits, a point and decimals; no exponent, no Infinity or NaN.
_AMOUNT = re.compile(r"-?\d+(?:\.\d*)?|-?\.\d+")


def money_problem(value) -> str | None:
    """Why `value` is no amount of money the portal keeps (None: it is one, or no amount)."""
    if value is None:
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(MONEY_MESSAGE)
    if not amount.is_finite():
        return str(MONEY_MESSAGE)
    if amount < 0:
        return str(NEGATIVE_MESSAGE)
    if amount >= MONEY_LIMIT or amount != amount.quantize(CENT):
        return str(MONEY_MESSAGE)
    return None


def money(value) -> Decimal | None:
    """`value` as the amount stored (two decimals); ValueError with the message if it is none."""
    problem = money_problem(value)
    if problem:
        raise ValueError(problem)
    if value is None:
        return None
    return abs(Decimal(str(value)).quantize(CENT))  # abs: no "-0.00"


class MoneyField(DecimalField):
    """An amount in yuan: `money_problem` decides, the value is kept as typed when refused."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        if not text:
            self.data = None
            return
        self.data = None
        if not _AMOUNT.fullmatch(text):
            raise ValueError(str(MONEY_MESSAGE))
        self.data = money(Decimal(text))

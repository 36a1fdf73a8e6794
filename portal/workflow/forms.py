"""The transition form: a comment and the version the user saw."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Optional

from portal.core.forms import PortalForm, max_length
from portal.core.models import COMMENT_MAX_LENGTH


class TransitionForm(PortalForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), max_length(COMMENT_MAX_LENGTH)])
    version = HiddenField()

    def show_refusal(self, exc) -> None:
        """Put a refused step's messages on the form: a missing comment beside the comment,
        the rest (missing evidence, a guard, a conflict) above it."""
        missing = getattr(exc, "missing", None)
        if missing:
            for what, message in missing.items():
                (self.comment.errors if what == "comment" else self.form_errors).append(message)
        else:
            self.form_errors.append(exc.message)

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None

"""The 延期申请 form: the proposed date, the reason and the progress so far."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import InputRequired

from portal.core.forms import PortalForm, max_length
from portal.deadlines.models import PROGRESS_NOTE_MAX_LENGTH, REASON_MAX_LENGTH


class ExtensionRequestForm(PortalForm):
    proposed_deadline = DateField(
        _l("Proposed new deadline"),
        validators=[InputRequired(message=_l("Enter the proposed new deadline."))],
    )
    reason = TextAreaField(
        _l("Reason for the extension"),
        validators=[
            InputRequired(message=_l("Give the reason for the extension.")),
            max_length(REASON_MAX_LENGTH),
        ],
    )
    progress_note = TextAreaField(
        _l("Progress so far (目前进展)"),
        validators=[
            InputRequired(message=_l("Say what has been done so far (目前进展).")),
            max_length(PROGRESS_NOTE_MAX_LENGTH),
        ],
    )
    version = HiddenField()

    def process_formdata_errors(self) -> None:
        """WTForms says "Not a valid date value." in English: say it in the user's language."""
        if (
            any((v or "").strip() for v in self.proposed_deadline.raw_data or ())
            and self.proposed_deadline.data is None
        ):
            self.proposed_deadline.errors[:] = [str(_l("Enter the date as YYYY-MM-DD."))]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.process_formdata_errors()
        return valid

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None

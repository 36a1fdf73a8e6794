"""Forms of notifications: reading them, the e-mail preference, a chase note (催办)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.core.forms import PortalForm
from portal.notifications.models import CHASE_MAX_LENGTH


class MarkReadForm(PortalForm):
    """Marking one or every notification read: a POST with its CSRF token, nothing else."""

    submit = SubmitField(_l("Mark read"))


class EmailPreferenceForm(PortalForm):
    email_notifications = BooleanField(_l("Also send my notifications by e-mail"))
    submit = SubmitField(_l("Save"))


class ChaseForm(PortalForm):
    text = TextAreaField(
        _l("Chase note"),
        validators=[
            DataRequired(message=_l("Write what you are chasing for.")),
            Length(
                max=CHASE_MAX_LENGTH,
                message=_l("A chase note can be at most %(max)d characters long."),
            ),
        ],
        render_kw={"maxlength": CHASE_MAX_LENGTH},
    )
    submit = SubmitField(_l("Send chase (催办)"))

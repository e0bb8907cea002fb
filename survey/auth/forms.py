"""Forms of the auth area: sign-in, sign-out, password change and API tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from survey.forms import PasswordTexts, SiteForm, new_password_fields
from survey.identity.passwords import MIN_LENGTH, verify_password


class LoginForm(SiteForm):
    """Username and password; ``next`` carries the page to return to."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Please enter your username.")), Length(max=80)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password.")), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class LogoutForm(SiteForm):
    """Only the CSRF token: signing out is a POST so another site cannot trigger it."""

    submit = SubmitField(_l("Sign out"))


class PasswordForm(SiteForm):
    """Current password, and the new one twice."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password, confirm_password = new_password_fields(
        "new_password",
        PasswordTexts(
            label=_l("New password"),
            again=_l("New password again"),
            missing=_l("Please enter a new password."),
            too_short=_l("The new password needs at least %(min)s characters.", min=MIN_LENGTH),
            missing_again=_l("Please enter the new password a second time."),
            different=_l("The two new passwords are not the same."),
        ),
    )
    submit = SubmitField(_l("Change password"))

    def __init__(self, user, *args, **kwargs):
        """Bind the form to the signed-in user, whose current password it checks."""
        super().__init__(*args, **kwargs)
        self._user = user

    def validate_current_password(self, field) -> None:
        """The current password must be right, so a borrowed session cannot lock the owner out."""
        if not verify_password(self._user.password_hash, field.data or ""):
            raise ValidationError(_l("The current password is not correct."))

    def validate_new_password(self, field) -> None:
        """A new password must differ from the current one."""
        if field.data and verify_password(self._user.password_hash, field.data):
            raise ValidationError(_l("The new password must differ from the current one."))


class TokenForm(SiteForm):
    """A name for a new API token, so its owner can tell tokens apart when revoking."""

    name = StringField(
        _l("Token name"),
        validators=[DataRequired(_l("Please give the token a name.")), Length(max=100)],
        description=_l("For example the program or person that will use it."),
    )
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(SiteForm):
    """Only the CSRF token: the token to revoke is in the address."""

    submit = SubmitField(_l("Revoke"))

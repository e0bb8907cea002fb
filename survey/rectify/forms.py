"""Forms of the rectification pages."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from survey.forms import SiteForm
from survey.manage.forms import ActionForm
from survey.models import MeasureStatus, OpinionSource, ProblemClass
from survey.refusals import BadRequest
from survey.services.rectification.opinions import SOURCE_LABELS, TEXT_LIMIT
from survey.services.rectification.plans import CLASS_LABELS, STATUS_LABELS


def check_posted() -> ActionForm:
    """A one-button form (its target is in the address): refuse a stale or forged one (400)."""
    form = ActionForm()
    if not form.validate_on_submit():
        raise BadRequest(_("The form has expired. Please try again."))
    return form


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (opinions or items to link)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OpinionForm(SiteForm):
    text = TextAreaField(
        _l("Opinion"), validators=[DataRequired(_l("Write the opinion.")), Length(max=TEXT_LIMIT)]
    )
    source = SelectField(_l("Source"), choices=[(s.value, SOURCE_LABELS[s]) for s in OpinionSource])
    branch = SelectField(_l("About"), coerce=int)
    themes = StringField(
        _l("Themes"),
        description=_l("Separate themes with 、 or a semicolon, for example 工作作風、服務羣眾."),
        validators=[Optional(), Length(max=500)],
    )
    count = IntegerField(
        _l("Number of people"),
        default=1,
        validators=[InputRequired(_l("Give a number.")), NumberRange(min=1, max=100000)],
    )
    submit = SubmitField(_l("Add the opinion"))


class ImportOpinionsForm(SiteForm):
    file = FileField(
        _l("File (CSV or .xlsx)"),
        validators=[
            FileRequired(_l("Please choose a file.")),
            FileAllowed(["csv", "txt", "xlsx"], _l("Only CSV or .xlsx files can be read.")),
        ],
    )
    source = SelectField(
        _l("Source where the file has no source column"),
        choices=[(s.value, SOURCE_LABELS[s]) for s in OpinionSource],
        default=OpinionSource.FORM.value,
    )
    submit = SubmitField(_l("Import"))


class TagForm(SiteForm):
    themes = StringField(_l("Themes"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save themes"))


class MergeForm(SiteForm):
    into = SelectField(_l("Merge into"), coerce=int)
    submit = SubmitField(_l("Merge"))


class PlanForm(SiteForm):
    branch = SelectField(_l("Plan of"), coerce=int)
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Give the plan a title.")), Length(max=200)]
    )
    submit = SubmitField(_l("Create the plan"))


class MeasureForm(SiteForm):
    problem = TextAreaField(
        _l("What is the problem to fix?"),
        validators=[DataRequired(_l("Say what the problem is.")), Length(max=TEXT_LIMIT)],
    )
    method = TextAreaField(
        _l("How will it be fixed?"),
        validators=[DataRequired(_l("Say how it will be fixed.")), Length(max=TEXT_LIMIT)],
    )
    expected_effect = TextAreaField(
        _l("What should it achieve?"),
        validators=[DataRequired(_l("Say what the fix should achieve.")), Length(max=TEXT_LIMIT)],
    )
    problem_class = SelectField(
        _l("Class"), choices=[(c.value, CLASS_LABELS[c]) for c in ProblemClass]
    )
    department = StringField(
        _l("Responsible department"),
        validators=[DataRequired(_l("Name the responsible department.")), Length(max=200)],
    )
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    for_members = BooleanField(_l("A measure for the members themselves"))
    opinions = CheckboxesField(_l("Opinions it answers"), coerce=int, validate_choice=False)
    items = CheckboxesField(_l("Items it should move"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save the measure"))


class DiscussForm(SiteForm):
    meeting = DateField(
        _l("Date of the members' meeting"),
        validators=[InputRequired(_l("Give the date of the members' meeting."))],
    )
    submit = SubmitField(_l("Mark as discussed"))


class ProgressForm(SiteForm):
    status = SelectField(_l("Status"), choices=[(s.value, STATUS_LABELS[s]) for s in MeasureStatus])
    note = TextAreaField(
        _l("What was done, or why it is late"), validators=[Optional(), Length(max=TEXT_LIMIT)]
    )
    new_deadline = DateField(_l("New date (when delayed)"), validators=[Optional()])
    submit = SubmitField(_l("Save progress"))


class FeedbackForm(SiteForm):
    plan = SelectField(_l("About"), coerce=int)
    text = TextAreaField(
        _l("Your opinion"),
        validators=[DataRequired(_l("Write your opinion.")), Length(max=1000)],
    )
    submit = SubmitField(_l("Send"))

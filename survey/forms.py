"""The base of every form: Flask-WTF with CSRF, reading only well-formed fields.

Flask-WTF merges uploaded files into the form data whenever a request carries any, so a
multipart body with a file part named like a text field would hand a text field a file object,
and a part without a name reaches WTForms as a ``None`` key. Hostile clients send both; here a
text field only ever sees text, and nameless parts are dropped.
"""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField


class SiteForm(FlaskForm):
    """A FlaskForm that reads files only into its file fields and ignores nameless parts."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """Rebuild the request's form data from named fields and this form's uploads."""
            data = super().wrap_formdata(form, formdata)
            if data is not request.form and not isinstance(data, CombinedMultiDict):
                return data  # None, JSON, or form data passed in by the caller
            file_fields = {f.name for f in form if isinstance(f, FileField)}
            files = MultiDict(
                [(k, v) for k, v in request.files.items(multi=True) if k in file_fields]
            )
            fields = MultiDict(
                [(k, v) for k, v in request.form.items(multi=True) if isinstance(k, str)]
            )
            return CombinedMultiDict((files, fields))

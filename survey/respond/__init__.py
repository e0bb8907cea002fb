"""The respondent path: start page, questionnaire, thank-you page.

The blueprint is defined here; views are in ``routes.py``, forms in ``forms.py``.
"""

from flask import Blueprint

bp = Blueprint("respond", __name__)

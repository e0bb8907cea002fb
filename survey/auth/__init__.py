"""Sign-in, sessions, API tokens and roles.

The blueprint is defined here; views are in ``routes.py``, forms in ``forms.py``.
"""

from flask import Blueprint

bp = Blueprint("auth", __name__)

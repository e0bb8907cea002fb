"""Administration in the browser: campaigns, surveys, branches, codes, ballots, users.

The blueprint is defined here; views are in ``routes.py``, forms in ``forms.py``.
"""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")

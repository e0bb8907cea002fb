"""The JSON API under /api/v1.

The blueprint is defined here; views are in ``routes.py``, forms in ``forms.py``.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

"""Result dashboards, charts and exports for the supervision group.

The blueprint is defined here; views are in ``routes.py``, forms in ``forms.py``.
"""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")

"""Views of the auth area."""

from survey.auth import bp  # noqa: F401

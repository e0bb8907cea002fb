"""Views of the api area."""

from survey.api import bp  # noqa: F401

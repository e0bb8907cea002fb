"""Views of the results area."""

from survey.results import bp  # noqa: F401

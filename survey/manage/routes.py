"""Views of the manage area."""

from survey.manage import bp  # noqa: F401

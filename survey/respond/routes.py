"""Views of the respond area."""

from survey.respond import bp  # noqa: F401

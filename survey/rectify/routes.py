"""The rectification area's views, one module per part (attached to :data:`survey.rectify.bp`)."""

from survey.rectify import opinions, plans, public  # noqa: F401

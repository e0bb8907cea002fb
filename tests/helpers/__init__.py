"""Helpers shared by test modules: a live gunicorn server, respondents driving it."""

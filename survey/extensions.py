"""Flask extensions that have no app until ``create_app`` gives them one."""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

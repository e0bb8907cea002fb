"""Live gunicorn servers under load: races, storms, crashes, workers sharing the back-off."""

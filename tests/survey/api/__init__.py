"""The JSON API and its recorded report."""

"""The rectification stage (整改提高): opinions, plans and measures, progress, the public page
and the effect measured by the final satisfaction test. See :mod:`survey.models.rectify`."""

"""Names ``vulture`` cannot see used, for ``make lint`` and ``make test`` (see the Makefile).

Each is used where a static reading of Python does not look: by a Jinja template, by the
database (a column is written by the ORM and read by SQL), or by a framework that reads it by
name. Dead code is not listed here: it is deleted.
"""

# Form fields that templates render, and WTForms' validate_<field> hooks (by name).
current_password  # auth/forms.py
confirm_password  # auth/forms.py

# Framework attributes: the session cookie's lifetime, the sqlite3 driver's transaction mode.
_.permanent  # auth/routes.py
_.isolation_level  # db.py

# Columns the ORM writes and SQL, exports or templates read.
submitted_on  # models/ballots.py
opened_on  # models/surveys.py
closed_on  # models/surveys.py
_.opened_on  # models/surveys.py
_.closed_on  # models/surveys.py

# Fields of view models that only templates read.
shortcuts  # manage/views.py: the keying grid's number keys
column_label  # manage/views.py
overall_hidden  # results/views.py
tests_scope  # results/views.py
branch_links  # results/views.py
versus  # results/views.py
hidden_reason  # results/views.py
verdict  # results/views.py
_.last  # services/audit.py: the audit page's pager
_.has_newer  # services/audit.py
_.has_older  # services/audit.py
keyed_by  # services/ballot_drafts.py: the drafts list
is_verified  # services/ballot_drafts.py
old_members  # services/branches.py: the import preview
survey_title  # services/slips.py: the printed slip
category_label  # services/slips.py
start_address  # services/slips.py

# The rectification stage: columns and view fields that templates read, WTForms widget hooks.
discussed_on  # models/rectify.py: the plan pages
filed_on  # models/rectify.py
done_on  # models/rectify.py: the measures table
_.discussed_on  # services/rectification/plans.py
_.filed_on  # services/rectification/plans.py
_.done_on  # services/rectification/plans.py
untagged  # services/rectification/opinions.py: the summary page
addressed  # services/rectification/opinions.py
widget  # rectify/forms.py, manage/survey_forms.py: WTForms reads a field's widget by name
option_widget  # rectify/forms.py, manage/survey_forms.py

# View fields of the office's and results pages that only templates read.
returned  # manage/views.py: paper forms returned, on the turnout and ballots pages
details  # results/views.py, services/audit_labels.py
lead  # results/views.py: the survey page's lead sentences
who  # services/audit_labels.py: the audit page
waiting_batches  # services/ballot_drafts.py: the keying list

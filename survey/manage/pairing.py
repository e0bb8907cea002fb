"""The manage area's item pairing: which item of an earlier stage each item is compared with.

Stages are compared by item key unless the office pairs an item explicitly here
(:func:`survey.services.item_pairs.pair_item`, audited). Pairing changes no answer and no
figure, only which rows the stage comparison puts side by side, so it is open whatever the
stages' state: a clerk may fix a pairing after the results are out.
"""

from __future__ import annotations

from flask import g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField

from survey.db import db
from survey.manage import bp
from survey.manage.base import save_form
from survey.models import Campaign, Item
from survey.refusals import Invalid
from survey.services.item_pairs import candidates, pair_item
from survey.services.lookup import get_row

#: The choice "no explicit pairing": the item is compared by its key.
BY_KEY = 0


class PairForm(FlaskForm):
    """One item of a later stage and the earlier item it is compared with."""

    earlier = SelectField(_l("Compare with"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save the pairing"))


def _choices(item: Item) -> list[tuple[int, str]]:
    """ "By key" first, then every item of the campaign's earlier stages."""
    return [
        (BY_KEY, _("The item with the same key (%(key)s) in each earlier stage", key=item.key))
    ] + [
        (other.id, f"{other.survey.title} · {other.key}. {other.text}")
        for other in candidates(item)
    ]


def _form(item: Item, sent: bool) -> PairForm:
    form = (
        PairForm(prefix=f"item-{item.id}")
        if sent
        else PairForm(prefix=f"item-{item.id}", formdata=None)
    )
    form.earlier.choices = _choices(item)
    if not sent:
        form.earlier.data = item.compares_with_id or BY_KEY
    return form


def _save(item: Item, form: PairForm) -> Item:
    """Check the chosen earlier item is one of the choices, then pair through the service."""
    chosen = form.earlier.data or BY_KEY
    if chosen != BY_KEY and chosen not in {other.id for other in candidates(item)}:
        raise Invalid(_("Choose an item of an earlier stage of this campaign."), field="earlier")
    earlier = None if chosen == BY_KEY else db.session.get(Item, chosen)
    return pair_item(g.user, item, earlier)


@bp.route("/campaigns/<int:campaign_id>/pairing", methods=["GET", "POST"])
def edit_pairing(campaign_id: int):
    """Every item of the campaign's later stages, each with the earlier item it is compared
    with; one item's pairing is saved at a time."""
    campaign = get_row(Campaign, campaign_id)
    sent_prefix = next((k.split("-submit")[0] for k in _sent_keys() if k.endswith("-submit")), None)
    status = 200
    stages = []
    for survey in campaign.surveys[1:]:
        rows = []
        for item in survey.items:
            sent = sent_prefix == f"item-{item.id}"
            form = _form(item, sent)
            if sent:
                done, status = save_form(
                    form,
                    lambda item=item, form=form: _save(item, form),
                    _("Pairing of %(key)s saved.", key=item.key),
                    url_for("manage.edit_pairing", campaign_id=campaign.id),
                )
                if done is not None:
                    return done
            rows.append((item, form))
        stages.append((survey, rows))
    return render_template("manage/pairing.html", campaign=campaign, stages=stages), status


def _sent_keys() -> list[str]:
    """The names of the fields a POST sent (none for a GET)."""
    return list(request.form.keys()) if request.method == "POST" else []

"""The manage area's questionnaire editor: items, the rating scale and respondent categories.

Every change goes through :mod:`survey.services.surveys`, which refuses to change the items or
scale of a survey with responses (409) and names the field at fault otherwise (422).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.manage import bp
from survey.manage import forms as f
from survey.manage import survey_forms as sf
from survey.manage.base import current_survey, locked_message, save_form
from survey.models import Item, Survey
from survey.refusals import BadRequest, NotFound, Refusal
from survey.services import surveys
from survey.services.definitions import CategoryDef, OptionDef


def _locking(survey: Survey) -> dict:
    """The template values that say whether (and why) the questionnaire is locked."""
    locked = surveys.is_locked(survey)
    return {"locked": locked, "locked_message": locked_message() if locked else None}


def _items_page(form=None, status: int = 200):
    survey = current_survey()
    if form is None:  # the next free key, prefilled: a clerk never has to invent one
        form = sf.ItemForm(formdata=None, key=surveys.suggested_item_key(survey))
    return render_template(
        "manage/items.html",
        survey=survey,
        form=form,
        action_form=f.ActionForm(),
        **_locking(survey),
    ), status


def _item(item_id: int) -> Item:
    """The current survey's item with this id."""
    item = next((i for i in current_survey().items if i.id == item_id), None)
    if item is None:
        raise NotFound(_("This page does not exist."))
    return item


def _back_to_items(item: Item | None = None):
    anchor = f"#item-{item.id}" if item is not None else ""
    return redirect(url_for("manage.edit_items", survey_id=current_survey().id) + anchor)


@bp.get("/surveys/<int:survey_id>/items")
def edit_items():
    """The questionnaire editor: items in order, with buttons to move, edit and remove them."""
    return _items_page()


@bp.post("/surveys/<int:survey_id>/items/add")
def add_item():
    """Append an item."""
    form = sf.ItemForm()
    done, status = save_form(
        form,
        lambda: surveys.add_item(g.user, current_survey(), form.key.data, form.text.data),
        _("Item added."),
        url_for("manage.edit_items", survey_id=current_survey().id),
    )
    return done or _items_page(form, 422 if status == 200 else status)


@bp.route("/surveys/<int:survey_id>/items/<int:item_id>", methods=["GET", "POST"])
def edit_item(item_id: int):
    """Change one item's key and question."""
    survey = current_survey()
    item = _item(item_id)
    form = sf.ItemForm(obj=item)
    done, status = save_form(
        form,
        lambda: surveys.update_item(g.user, survey, item.id, form.key.data, form.text.data),
        _("Item saved."),
        url_for("manage.edit_items", survey_id=survey.id),
    )
    if done:
        return done
    return render_template(
        "manage/item.html", survey=survey, item=item, form=form, **_locking(survey)
    ), status


def _questionnaire_action(item_id: int, change, done: str | None = None):
    """A button on an item (move, remove): checked, carried out, back to the list."""
    item = _item(item_id)
    if not f.ActionForm().validate_on_submit():
        raise BadRequest(_("The request could not be understood."))
    try:
        change(current_survey(), item)
    except Refusal as refused:
        for message in refused.messages:
            flash(message, "error")
        return _items_page(status=refused.status)
    if done:
        flash(done, "success")
    return _back_to_items(item)


@bp.post("/surveys/<int:survey_id>/items/<int:item_id>/move/<any(up, down):direction>")
def move_item(item_id: int, direction: str):
    """Move an item one place up or down."""
    return _questionnaire_action(
        item_id, lambda survey, item: surveys.move_item(g.user, survey, item.id, direction)
    )


@bp.post("/surveys/<int:survey_id>/items/<int:item_id>/remove")
def remove_item(item_id: int):
    """Remove an item."""
    return _questionnaire_action(
        item_id,
        lambda survey, item: surveys.remove_item(g.user, survey, item.id),
        _("Item removed."),
    )


def _scale_form(survey: Survey) -> f.ScaleForm:
    form = f.ScaleForm()
    form.preset.choices = [
        (name, str(label)) for name, (label, _o) in surveys.PRESET_SCALES.items()
    ] + [("custom", _("A scale of its own (below)"))]
    if request.method == "GET":
        form.preset.data = surveys.preset_of(survey) or "custom"
        for row, option in zip(form.options, survey.options, strict=False):
            row.form.key.data = option.key
            row.form.label.data = option.label
            row.form.weight.data = f"{option.weight:g}"
            row.form.favourable.data = option.is_favourable
    return form


def _chosen_scale(form: f.ScaleForm) -> list[OptionDef]:
    """The options a submitted scale form names: a preset's, or the rows typed in."""
    if form.preset.data != "custom":
        return list(surveys.PRESET_SCALES[form.preset.data][1])
    return [
        OptionDef(
            row.form.key.data.strip(),
            row.form.label.data.strip(),
            float(row.form.weight.data),
            bool(row.form.favourable.data),
        )
        for row in form.options
        if not row.form.is_blank()
    ]


@bp.route("/surveys/<int:survey_id>/scale", methods=["GET", "POST"])
def edit_scale():
    """Choose a preset scale or define one (options with key, label, score and favourable)."""
    survey = current_survey()
    form = _scale_form(survey)
    done, status = save_form(
        form,
        lambda: surveys.set_scale(g.user, survey, _chosen_scale(form)),
        _("Scale saved."),
        url_for("manage.show_survey", survey_id=survey.id),
    )
    if done:
        return done
    return render_template(
        "manage/scale.html", survey=survey, form=form, **_locking(survey)
    ), status


def _categories_form(survey: Survey) -> f.CategoriesForm:
    form = f.CategoriesForm()
    if request.method == "GET":
        for row, category in zip(form.categories, survey.categories, strict=False):
            row.form.key.data = category.key
            row.form.label.data = category.label
            row.form.weight.data = "" if category.weight is None else f"{category.weight:g}"
    return form


@bp.route("/surveys/<int:survey_id>/categories", methods=["GET", "POST"])
def edit_categories():
    """Respondent categories and their weights in the composite."""
    survey = current_survey()
    form = _categories_form(survey)
    done, status = save_form(
        form,
        lambda: surveys.set_categories(g.user, survey, _chosen_categories(form)),
        _("Categories saved."),
        url_for("manage.show_survey", survey_id=survey.id),
    )
    return done or (render_template("manage/categories.html", survey=survey, form=form), status)


def _chosen_categories(form: f.CategoriesForm) -> list[CategoryDef]:
    """The categories typed into a submitted categories form."""
    return [
        CategoryDef(
            row.form.key.data.strip(),
            row.form.label.data.strip(),
            float(row.form.weight.data) if row.form.weight.data else None,
        )
        for row in form.categories
        if not row.form.is_blank()
    ]

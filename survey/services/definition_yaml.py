"""Survey definitions as YAML: checking, loading (create or update) and exporting.

The format is documented in the README and shown by ``survey/demo/*.yaml``. Problems name the
file, the line of the offending key and a field path such as ``scale[2].weight`` (counted from 1).
:func:`export_definition` writes what :func:`load_definition` reads back unchanged.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from flask_babel import gettext as _

from survey.db import db
from survey.models import Access, ResultsVisibility, Survey, SurveyKind, User
from survey.services.definitions import (
    KEY_PATTERN,
    MIN_THRESHOLD,
    RESERVED_ITEM_KEYS,
    SLUG_PATTERN,
    CategoryDef,
    ItemDef,
    LoadOutcome,
    OptionDef,
    SurveyDefinition,
    apply_definition,
    definition_of,
)
from survey.services.imports import Problem, Rejected

_TOP_KEYS = (
    "campaign",
    "slug",
    "title",
    "kind",
    "access",
    "threshold",
    "results",
    "scale",
    "categories",
    "items",
    "comments",
    "comment_max_length",
    "min_rank_respondents",
    "target",
    "welcome_text",
    "thanks_text",
)


# ---- reading ---------------------------------------------------------------------------------


class _Reader:
    """Walks the composed YAML nodes, so every value keeps the line it came from."""

    def __init__(self, source: str, loader: yaml.SafeLoader):
        self.source = source
        self.loader = loader
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node | None, path: str | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(self.source, line, path, message))

    def mapping(self, node: yaml.Node, path: str | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key, with key and value nodes; reports repeated keys."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, _("must be a mapping of keys to values"))
            return {}
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            name = _join(path, str(key))
            if key in entries:
                self.problem(key_node, name, _("this key appears twice"))
            else:
                entries[key] = (key_node, value_node)
        return entries

    def check_keys(self, node, entries, path, allowed, required) -> None:
        """Report unknown and missing keys of a mapping."""
        for key, (key_node, _value) in entries.items():
            if key not in allowed:
                self.problem(
                    key_node,
                    _join(path, str(key)),
                    _("unknown key (allowed: %(allowed)s)", allowed=", ".join(allowed)),
                )
        for key in required:
            if key not in entries:
                self.problem(node, _join(path, key), _("this required key is missing"))

    def scalar(self, entries, key: str, path: str | None) -> tuple[Any, yaml.Node | None]:
        """The plain value of ``key`` (None when absent) and the node to report problems at."""
        if key not in entries:
            return None, None
        key_node, value_node = entries[key]
        if not isinstance(value_node, yaml.ScalarNode):
            self.problem(key_node, _join(path, key), _("must be a single value"))
            return None, None
        return self.loader.construct_object(value_node), key_node

    def text(self, entries, key, path, *, limit: int, pattern: re.Pattern | None = None):
        value, node = self.scalar(entries, key, path)
        if node is None:
            return None
        name = _join(path, key)
        if not isinstance(value, str) or not value.strip():
            self.problem(node, name, _("must be text (put it in quotes if it looks like a number)"))
            return None
        value = value.strip()
        if len(value) > limit:
            self.problem(node, name, _("is longer than %(limit)d characters", limit=limit))
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(
                node,
                name,
                _(
                    '"%(value)s" is not allowed: use letters, digits, "_", "." or "-", '
                    "starting with a letter or digit",
                    value=value,
                ),
            )
            return None
        return value

    def integer(self, entries, key, path, *, minimum: int, why: str | None = None):
        value, node = self.scalar(entries, key, path)
        if node is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            message = _("must be a whole number of at least %(minimum)d", minimum=minimum)
            self.problem(node, _join(path, key), f"{message}: {why}" if why else message)
            return None
        return value

    def number(self, entries, key, path, *, positive: bool = False):
        value, node = self.scalar(entries, key, path)
        if node is None:
            return None
        valid = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (value > 0 or not positive)
        )
        if not valid:
            message = _("must be a number greater than 0") if positive else _("must be a number")
            self.problem(node, _join(path, key), message)
            return None
        return float(value)

    def boolean(self, entries, key, path):
        value, node = self.scalar(entries, key, path)
        if node is None:
            return None
        if not isinstance(value, bool):
            self.problem(node, _join(path, key), _("must be true or false"))
            return None
        return value

    def choice(self, entries, key, path, enum_type):
        value, node = self.scalar(entries, key, path)
        if node is None:
            return None
        allowed = [member.value for member in enum_type]
        if value not in allowed:
            self.problem(
                node,
                _join(path, key),
                _("must be one of: %(allowed)s", allowed=", ".join(allowed)),
            )
            return None
        return enum_type(value)

    def sequence(self, entries, key, path, *, minimum: int) -> tuple[yaml.Node | None, list]:
        """A list's key node (to report problems at) and its entries' nodes."""
        if key not in entries:
            return None, []
        key_node, value_node = entries[key]
        name = _join(path, key)
        if not isinstance(value_node, yaml.SequenceNode):
            self.problem(key_node, name, _("must be a list"))
            return key_node, []
        if len(value_node.value) < minimum:
            self.problem(key_node, name, _("needs at least %(count)d entries", count=minimum))
        return key_node, value_node.value


def _join(path: str | None, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_definition(text: str, source: str) -> tuple[SurveyDefinition | None, list[Problem]]:
    """Check a YAML survey definition completely; return it (None on problems) and every problem."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = f"{error.problem or ''} {error.context or ''}".strip()
        message = _("this is not valid YAML (%(detail)s)", detail=detail)
        return None, [Problem(source, line, None, message)]
    except yaml.YAMLError as error:
        return None, [
            Problem(source, None, None, _("this is not valid YAML (%(detail)s)", detail=str(error)))
        ]
    finally:
        loader.dispose()
    reader = _Reader(source, loader)
    if root is None:
        return None, [Problem(source, None, None, _("the file is empty"))]
    top = reader.mapping(root, None)
    if not top:
        return None, reader.problems or [Problem(source, 1, None, _("the file is empty"))]
    required = ("campaign", "slug", "title", "kind", "access", "threshold", "results", "scale",
                "categories", "items")  # fmt: skip
    reader.check_keys(root, top, None, _TOP_KEYS, required)
    lines = {key: key_node.start_mark.line + 1 for key, (key_node, _v) in top.items()}

    fields = {**_read_campaign(reader, top), **_read_settings(reader, top)}
    scale = _read_options(reader, *reader.sequence(top, "scale", None, minimum=2))
    categories = _read_categories(reader, *reader.sequence(top, "categories", None, minimum=1))
    items = _read_items(reader, *reader.sequence(top, "items", None, minimum=1))
    if reader.problems:
        return None, reader.problems
    definition = SurveyDefinition(
        **fields,
        scale=tuple(scale),
        categories=tuple(categories),
        items=tuple(items),
        lines=lines,
    )
    return definition, []


def _read_campaign(reader: _Reader, top) -> dict[str, Any]:
    """The campaign's short name and title."""
    campaign_slug = campaign_title = None
    if "campaign" in top:
        key_node, value_node = top["campaign"]
        campaign = reader.mapping(value_node, "campaign")
        if isinstance(value_node, yaml.MappingNode):
            reader.check_keys(key_node, campaign, "campaign", ("slug", "title"), ("slug", "title"))
        campaign_slug = reader.text(campaign, "slug", "campaign", limit=64, pattern=SLUG_PATTERN)
        campaign_title = reader.text(campaign, "title", "campaign", limit=200)
    return {"campaign_slug": campaign_slug, "campaign_title": campaign_title}


def _read_settings(reader: _Reader, top) -> dict[str, Any]:
    """The survey's name and settings (every top-level value but the lists)."""
    threshold_why = _(
        "with fewer than 3 respondents in a group, each can work out what the others said"
    )
    comment_max_length = reader.integer(top, "comment_max_length", None, minimum=1)
    min_rank = reader.integer(top, "min_rank_respondents", None, minimum=1)
    return _read_texts(reader, top) | {
        "slug": reader.text(top, "slug", None, limit=64, pattern=SLUG_PATTERN),
        "title": reader.text(top, "title", None, limit=200),
        "kind": reader.choice(top, "kind", None, SurveyKind),
        "access": reader.choice(top, "access", None, Access),
        "results": reader.choice(top, "results", None, ResultsVisibility),
        "threshold": reader.integer(
            top, "threshold", None, minimum=MIN_THRESHOLD, why=threshold_why
        ),
        "comments": bool(reader.boolean(top, "comments", None)),
        "comment_max_length": comment_max_length or 2000,
        "min_rank_respondents": min_rank or 30,
    }


#: Longest welcome or thank-you text (as the settings page allows).
TEXT_LIMIT = 2000


def _read_texts(reader: _Reader, top) -> dict[str, Any]:
    """The target (a percentage, as the office's form takes it) and the welcome and thank-you
    texts, all optional."""
    target, node = reader.scalar(top, "target", None)
    if node is not None:
        number = reader.number(top, "target", None, positive=True)
        if number is not None and number > 100:
            reader.problem(node, "target", _("must be a percentage between 0 and 100"))
            number = None
        target = None if number is None else round(number / 100, 6)
    return {
        "target": target,
        "welcome_text": reader.text(top, "welcome_text", None, limit=TEXT_LIMIT) or "",
        "thanks_text": reader.text(top, "thanks_text", None, limit=TEXT_LIMIT) or "",
    }


def _entries(reader: _Reader, nodes: list[yaml.Node], name: str, allowed, required):
    """Each list entry as (path, node, mapping entries), with unknown and missing keys reported."""
    for index, node in enumerate(nodes, start=1):
        path = f"{name}[{index}]"
        entries = reader.mapping(node, path)
        if isinstance(node, yaml.MappingNode):
            reader.check_keys(node, entries, path, allowed, required)
            yield path, node, entries


def _unique(reader: _Reader, seen: dict[str, str], value, node, path: str, entry: str) -> None:
    """Report ``value`` when an earlier entry of the same list already has it (any case)."""
    if value is None:
        return
    folded = str(value).casefold()
    if folded in seen:
        reader.problem(
            node,
            path,
            _('"%(value)s" is already used by %(other)s', value=value, other=seen[folded]),
        )
    else:
        seen[folded] = entry


def _read_options(reader: _Reader, list_node, nodes: list[yaml.Node]) -> list[OptionDef]:
    """The scale: keys and labels unique (a ballot cell may hold either), mixed favourability."""
    options, names = [], {}
    fields = ("key", "label", "weight", "favourable")
    for path, node, entries in _entries(reader, nodes, "scale", fields, fields):
        key = reader.text(entries, "key", path, limit=40, pattern=KEY_PATTERN)
        label = reader.text(entries, "label", path, limit=100)
        weight = reader.number(entries, "weight", path)
        favourable = reader.boolean(entries, "favourable", path)
        _unique(reader, names, key, node, f"{path}.key", path)
        if label != key:
            _unique(reader, names, label, node, f"{path}.label", path)
        if None not in (key, label, weight, favourable):
            options.append(OptionDef(key, label, weight, favourable))
    if len(options) == len(nodes) >= 2:
        kinds = {option.favourable for option in options}
        if kinds != {True, False}:
            reader.problem(
                list_node, "scale", _("needs at least one favourable and one unfavourable option")
            )
    return options


def _read_categories(reader: _Reader, _list_node, nodes: list[yaml.Node]) -> list[CategoryDef]:
    """Respondent categories: keys and labels unique; weights on all of them or on none."""
    categories, names = [], {}
    for path, node, entries in _entries(
        reader, nodes, "categories", ("key", "label", "weight"), ("key", "label")
    ):
        key = reader.text(entries, "key", path, limit=40, pattern=KEY_PATTERN)
        label = reader.text(entries, "label", path, limit=100)
        weight = reader.number(entries, "weight", path, positive=True)
        _unique(reader, names, key, node, f"{path}.key", path)
        if label != key:
            _unique(reader, names, label, node, f"{path}.label", path)
        if (
            key is not None
            and label is not None
            and (weight is not None or "weight" not in entries)
        ):
            categories.append(CategoryDef(key, label, weight))
    weighted = [c.weight is not None for c in categories]
    if len(categories) == len(nodes) and any(weighted) and not all(weighted):
        reader.problem(
            nodes[weighted.index(False)],
            f"categories[{weighted.index(False) + 1}].weight",
            _("when one category has a weight, every category needs one"),
        )
    return categories


def _read_items(reader: _Reader, _list_node, nodes: list[yaml.Node]) -> list[ItemDef]:
    """The rated aspects, with unique keys."""
    items, keys = [], {}
    for path, node, entries in _entries(reader, nodes, "items", ("key", "text"), ("key", "text")):
        key = reader.text(entries, "key", path, limit=40, pattern=KEY_PATTERN)
        text = reader.text(entries, "text", path, limit=500)
        if key is not None and key.casefold() in RESERVED_ITEM_KEYS:
            reader.problem(
                entries["key"][0],
                f"{path}.key",
                _('"%(key)s" is reserved; choose another key', key=key),
            )
            key = None
        _unique(reader, keys, key, node, f"{path}.key", path)
        if key is not None and text is not None:
            items.append(ItemDef(key, text))
    return items


def load_definition(text: str, source: str, user: User | None = None) -> LoadOutcome:
    """Check and load a YAML definition in one transaction; raise :class:`Rejected` on problems."""
    definition, problems = parse_definition(text, source)
    if problems:
        raise Rejected(problems)
    with db.transaction():
        return apply_definition(definition, source, user)


# ---- exporting -------------------------------------------------------------------------------


def _number(value: float) -> int | float:
    """100.0 is written as 100, as a person would write it."""
    return int(value) if float(value).is_integer() else value


def export_definition(survey: Survey) -> str:
    """The survey as YAML in the format :func:`load_definition` reads, loading back identically."""
    d = definition_of(survey)
    data = {
        "campaign": {"slug": d.campaign_slug, "title": d.campaign_title},
        "slug": d.slug,
        "title": d.title,
        "kind": d.kind.value,
        "access": d.access.value,
        "threshold": d.threshold,
        "results": d.results.value,
        "scale": [
            {
                "key": o.key,
                "label": o.label,
                "weight": _number(o.weight),
                "favourable": o.favourable,
            }
            for o in d.scale
        ],
        "categories": [
            {"key": c.key, "label": c.label}
            | ({} if c.weight is None else {"weight": _number(c.weight)})
            for c in d.categories
        ],
        "items": [{"key": i.key, "text": i.text} for i in d.items],
        "comments": d.comments,
        "comment_max_length": d.comment_max_length,
        "min_rank_respondents": d.min_rank_respondents,
    }
    if d.target is not None:
        data["target"] = _number(round(d.target * 100, 4))
    for key in ("welcome_text", "thanks_text"):
        if getattr(d, key):
            data[key] = getattr(d, key)
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000
    )

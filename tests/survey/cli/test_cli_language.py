"""The command line speaks the configured language (CEPING_CLI_LANGUAGE), whatever the web's
default, and a wrong time zone or language stops the start with a message that names it."""

from __future__ import annotations

import pytest

from survey import create_app
from survey.config import from_environment, settle


@pytest.mark.parametrize(
    ("language", "refusal", "summary"),
    [
        ("zh_Hant", "沒有簡稱為「nope」的測評。", "未作任何更改（1 個問題）。"),
        ("zh_Hans", "没有简称为“nope”的测评。", "未作任何更改（1 个问题）。"),
        ("en", 'There is no survey called "nope".', "Nothing was changed (1 problem)."),
    ],
)
def test_refusals_and_the_summary_in_the_configured_language(
    app, runner, language, refusal, summary
):
    app.config["CLI_LANGUAGE"] = language
    result = runner.invoke(args=["open-survey", "nope"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [refusal, summary]


def test_problems_found_by_the_command_itself_are_translated_too(
    app, runner, make_survey, tmp_path
):
    """fail() called by a command (not a service's refusal) speaks the same language."""
    from flask_babel import force_locale, gettext

    make_survey("pingyi")
    app.config["CLI_LANGUAGE"] = "zh_Hant"
    output = tmp_path / "codes.csv"
    result = runner.invoke(args=["mint-codes", "pingyi", "-o", str(output)])
    assert result.exit_code == 1
    english = "Give either --count or --counts FILE."
    with force_locale("zh_Hant"):
        expected = gettext(english)
    assert expected != english
    assert result.stderr.splitlines() == [expected, "未作任何更改（1 個問題）。"]


def test_the_language_does_not_leak_into_the_next_request(app, runner, client):
    app.config["CLI_LANGUAGE"] = "zh_Hant"
    runner.invoke(args=["open-survey", "nope"])
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Answer a survey" in page


def test_the_default_language_is_english(monkeypatch, tmp_path):
    monkeypatch.delenv("CEPING_CLI_LANGUAGE", raising=False)
    monkeypatch.delenv("CEPING_TIME_ZONE", raising=False)
    config = from_environment(tmp_path)
    assert config["CLI_LANGUAGE"] == "en" and config["TIME_ZONE"] == "Asia/Shanghai"
    settle(config)
    assert config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("TIME_ZONE", "Mars/Olympus", "CEPING_TIME_ZONE='Mars/Olympus' is not a time zone"),
        ("TIME_ZONE", "../etc/passwd", "CEPING_TIME_ZONE='../etc/passwd' is not a time zone"),
        ("TIME_ZONE", "", "CEPING_TIME_ZONE='' is not a time zone"),
        ("CLI_LANGUAGE", "fr", "CEPING_CLI_LANGUAGE='fr' is not one of Ceping's languages"),
    ],
)
def test_a_wrong_setting_stops_the_start(database_url, setting, value, message):
    with pytest.raises(ValueError, match=f"^{message}".replace("(", r"\(").replace(".", r"\.")):
        create_app({"SECRET_KEY": "k" * 32, "DATABASE_URL": database_url, setting: value})


def test_a_time_zone_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("CEPING_TIME_ZONE", "Asia/Taipei")
    configured = create_app({"SECRET_KEY": "k" * 32, "DATABASE_URL": database_url})
    assert configured.config["TIME_ZONE"] == "Asia/Taipei"
    assert configured.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Taipei"

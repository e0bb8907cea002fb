"""Input no browser sends is refused with a 400 and a message, before any other check."""

from __future__ import annotations

import pytest

#: A multipart body whose second part's name holds a line break: it reaches Flask as a None key.
UNREADABLE = (
    b'--bb\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n\r\n'
    b'--bb\r\nContent-Disposition: form-data; name="\n"\r\n\r\nv\r\n--bb--\r\n'
)


@pytest.mark.parametrize("path", ["/start", "/submit", "/login", "/s/any/b01"])
def test_a_part_whose_name_cannot_be_read_is_refused_before_the_csrf_check(client, path):
    # Flask-WTF's CSRF check looked for the token among the keys and failed on None with a 500.
    response = client.post(
        path,
        data=UNREADABLE,
        content_type="multipart/form-data; boundary=bb",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "one of its parts has no name" in response.get_data(as_text=True)


def test_the_refusal_speaks_the_visitors_language(client):
    response = client.post(
        "/start",
        data=UNREADABLE,
        content_type="multipart/form-data; boundary=bb",
        headers={"Accept-Language": "zh-TW"},
    )
    assert response.status_code == 400
    assert "無法讀取表單" in response.get_data(as_text=True)


def test_nul_in_a_field_is_refused(client):
    response = client.post(
        "/start", data={"csrf_token": "", "code": "a\x00b"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert "cannot be stored (NUL)" in response.get_data(as_text=True)

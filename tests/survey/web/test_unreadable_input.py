"""Input no browser sends is refused with a 400 and a message, before any other check."""

from __future__ import annotations

import pytest

#: A multipart body whose second part's name holds a line break: it reaches Flask as a None key.
UNREADABLE = (
    b'--bb\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n\r\n'
    b'--bb\r\nContent-Disposition: form-data; name="\n"\r\n\r\nv\r\n--bb--\r\n'
)


@pytest.mark.parametrize(
    ("path", "language", "message"),
    [
        ("/start", "en", "one of its parts has no name"),
        ("/submit", "en", "one of its parts has no name"),
        ("/login", "en", "one of its parts has no name"),
        ("/s/any/b01", "en", "one of its parts has no name"),
        ("/start", "zh-TW", "無法讀取表單"),
        ("/start", "zh-CN", "无法读取表单"),
    ],
)
def test_a_part_whose_name_cannot_be_read_is_refused_before_the_csrf_check(
    client, path, language, message
):
    # Flask-WTF's CSRF check looked for the token among the keys and failed on None with a 500.
    response = client.post(
        path,
        data=UNREADABLE,
        content_type="multipart/form-data; boundary=bb",
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_nul_in_a_field_is_refused(client):
    response = client.post(
        "/start", data={"csrf_token": "", "code": "a\x00b"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert "cannot be stored (NUL)" in response.get_data(as_text=True)

"""Calendar feeds through the API: added (address checked), listed by whose they are,
removed keeping or cancelling their sessions."""

from __future__ import annotations

from tests.api.conftest import Api, error_of

URL = "https://calendar.example.com/ical/ana/basic.ics"


def test_a_therapist_adds_lists_and_removes_their_feeds(
    api: Api, other_api: Api, admin_api: Api
) -> None:
    made = api.post("/calendar-feeds", {"url": URL})
    assert made.status_code == 201, made.get_json()
    feed = made.get_json()
    assert (feed["url"], feed["therapist_id"], feed["last_error"]) == (URL, api.user_id, None)
    assert [f["id"] for f in api.get("/calendar-feeds").get_json()["items"]] == [feed["id"]]
    assert other_api.get("/calendar-feeds").get_json()["items"] == []
    # An admin sees another therapist's secret address as its scheme and host only.
    seen = admin_api.get("/calendar-feeds").get_json()["items"]
    assert [(f["id"], f["url"]) for f in seen] == [(feed["id"], "https://calendar.example.com…")]
    assert api.get("/calendar-feeds").get_json()["items"][0]["url"] == URL
    assert other_api.delete(f"/calendar-feeds/{feed['id']}").status_code == 404
    assert api.delete(f"/calendar-feeds/{feed['id']}").status_code == 204
    assert api.get("/calendar-feeds").get_json()["items"] == []
    assert api.delete(f"/calendar-feeds/{feed['id']}").status_code == 404


def test_refused_addresses_and_therapists_say_why(api: Api, other_api: Api, admin_api: Api) -> None:
    for url, reason in (
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://127.0.0.1:8080/feed.ics", "loopback"),
        ("http://10.0.0.1/feed.ics", "private"),
        ("ftp://calendar.example.com/feed.ics", "only http and https"),
    ):
        response = api.post("/calendar-feeds", {"url": url})
        assert response.status_code == 422
        assert reason in error_of(response)["fields"]["url"]
    response = api.post("/calendar-feeds", {"url": URL, "therapist_id": other_api.user_id})
    assert error_of(response)["fields"] == {
        "therapist_id": "only an admin can assign another therapist"
    }
    by_admin = admin_api.post("/calendar-feeds", {"url": URL, "therapist_id": other_api.user_id})
    assert by_admin.status_code == 201
    assert [f["therapist_id"] for f in other_api.get("/calendar-feeds").get_json()["items"]] == [
        other_api.user_id
    ]


def test_removal_asks_true_or_false(api: Api) -> None:
    feed = api.post("/calendar-feeds", {"url": URL}).get_json()
    path = f"/api/v1/calendar-feeds/{feed['id']}?cancel_appointments=maybe"
    response = api.http.delete(path, headers=api._headers())
    assert error_of(response)["fields"] == {"cancel_appointments": "must be true or false"}
    ok = f"/api/v1/calendar-feeds/{feed['id']}?cancel_appointments=true"
    assert api.http.delete(ok, headers=api._headers()).status_code == 204

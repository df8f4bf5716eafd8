"""Pages that only show things refuse other methods (405) rather than answering a POST
as if it were a GET."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    ["pods:dashboard", "pods:members", "pods:this_week", "recipients:waitlist", "pods:invitations"],
)
def test_post_to_a_read_only_pod_page_is_refused(client, organizer, cycle, name):
    client.force_login(organizer)
    url = reverse(name, args=[cycle.pod.slug])

    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405


def test_post_to_home_is_refused(client):
    assert client.post(reverse("home")).status_code == 405

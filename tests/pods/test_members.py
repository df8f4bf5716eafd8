import pytest
from django.urls import reverse

from pods.models import Membership
from pods.views import member_names
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db


def url(pod):
    return reverse("pods:members", args=[pod.slug])


def test_signed_out_visitor_is_sent_to_sign_in(client, pod):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_member_of_another_pod_gets_404(client, outsider, pod, organizer):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404


def test_donor_sees_who_is_in_the_pod_and_who_organizes_it(client, donor, organizer, pod):
    client.force_login(donor)
    response = client.get(url(pod))
    assert response.status_code == 200
    assert [row["name"] for row in response.context["organizers"]] == ["Olive"]
    assert [row["name"] for row in response.context["donors"]] == ["Dana"]
    assert "(you)" in response.text


def test_donor_never_sees_full_email_addresses(client, donor, organizer, pod, make_user):
    nameless = make_user("quiet.neighbor@example.org")
    Membership.objects.create(pod=pod, user=nameless)
    client.force_login(donor)
    text = client.get(url(pod)).text
    # Without a display name, the part before the @ stands in for one.
    assert "quiet.neighbor" in text
    assert "@example.org" not in text


def test_organizer_sees_email_addresses(client, donor, organizer, pod):
    client.force_login(organizer)
    text = client.get(url(pod)).text
    assert "dana@example.org" in text
    assert "olive@example.org" in text


def test_former_members_and_other_pods_are_not_listed(client, donor, organizer, outsider, pod):
    Membership.objects.filter(user=donor).update(active=False)
    client.force_login(organizer)
    response = client.get(url(pod))
    assert response.context["donors"] == []
    assert "Dana" not in response.text
    assert "Otto" not in response.text


def test_members_who_share_a_name_are_told_apart_as_on_the_board(
    client, donor, organizer, pod, make_user
):
    # A former member counts for the marks, as on the board where her receipts stay.
    former = make_user("dana.zero@example.org", display_name="Dana")
    Membership.objects.create(pod=pod, user=former, active=False)
    namesake = make_user("dana.two@example.org", display_name="dana")
    Membership.objects.create(pod=pod, user=namesake)
    client.force_login(organizer)
    response = client.get(url(pod))
    # `donor` was made before `former`: the marks follow who joined the site first.
    assert [row["name"] for row in response.context["donors"]] == ["Dana (1)", "dana (3)"]
    assert "Dana (2)" not in response.text
    # The board's and the plan's names for the same people.
    shown = member_names(Membership.objects.filter(pod=pod).select_related("user"))
    assert (shown[donor.pk], shown[namesake.pk]) == ("Dana (1)", "dana (3)")


def test_query_count_is_the_same_for_5_and_500_donors(
    client, donor, pod, django_assert_num_queries
):
    client.force_login(donor)
    add_donors(pod, None, 5)
    # Counted on a second visit: the first one after a change of members fills the shared
    # cache with the pod's roster (pods.views.roster).
    client.get(url(pod))
    with django_assert_num_queries(5) as small:
        assert client.get(url(pod)).status_code == 200
    add_donors(pod, None, 495, start=5)
    client.get(url(pod))
    with django_assert_num_queries(5) as large:
        response = client.get(url(pod))
    assert len(small.captured_queries) == len(large.captured_queries)
    # All 501 counted, a hundred shown a page, and the page's size bounded.
    assert response.context["page"].paginator.count == 501
    assert "501 members" in response.text
    assert len(response.context["donors"]) == 100
    assert len(response.content) < 100_000
    assert 'href="?page=2" rel="next"' in response.text
    last = client.get(url(pod), {"page": 6})
    assert len(last.context["donors"]) == 1
    assert 'href="?page=5" rel="prev"' in last.text

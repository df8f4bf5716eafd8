from django.urls import path

from pods import alerts, invitations, settings_page, views

app_name = "pods"

# The pod's pages that need pledges (dashboard, pledge, this week, plan, leaving) are in
# pledges/urls.py; mutualaid/urls.py puts both in this namespace.

urlpatterns = [
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/invitations/", invitations.invitation_list, name="invitations"),
    path("<slug:slug>/invitations/new/", invitations.invitation_create, name="invitation_create"),
    path(
        "<slug:slug>/invitations/<int:pk>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<slug:slug>/alerts/", alerts.alert_list, name="alerts"),
    path("<slug:slug>/settings/", settings_page.pod_settings, name="settings"),
    path(
        "<slug:slug>/settings/notices/",
        settings_page.notices_setting,
        name="notices_setting",
    ),
    path(
        "<slug:slug>/alerts/<int:pk>/take-down/",
        alerts.alert_take_down,
        name="alert_take_down",
    ),
]

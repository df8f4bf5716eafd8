from django.urls import path  # noqa: F401

from pledges import views as pledge_views
from pods import alerts, invitations, views

app_name = "pods"

urlpatterns = [
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path("<slug:slug>/pledge/", pledge_views.pledge, name="pledge"),
    path("<slug:slug>/this-week/", pledge_views.this_week, name="this_week"),
    path("<slug:slug>/plan/<int:week>/", pledge_views.plan_review, name="plan"),
    path("<slug:slug>/invitations/", invitations.invitation_list, name="invitations"),
    path("<slug:slug>/invitations/new/", invitations.invitation_create, name="invitation_create"),
    path(
        "<slug:slug>/invitations/<int:pk>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<slug:slug>/alerts/", alerts.alert_list, name="alerts"),
    path(
        "<slug:slug>/alerts/<int:pk>/take-down/",
        alerts.alert_take_down,
        name="alert_take_down",
    ),
]

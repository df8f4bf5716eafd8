from django.urls import path  # noqa: F401

from pledges import views as pledge_views
from pods import invitations, views

app_name = "pods"

urlpatterns = [
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path("<slug:slug>/pledge/", pledge_views.pledge, name="pledge"),
    path("<slug:slug>/invitations/", invitations.invitation_list, name="invitations"),
    path("<slug:slug>/invitations/new/", invitations.invitation_create, name="invitation_create"),
    path(
        "<slug:slug>/invitations/<int:pk>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
]

from django.urls import path

from pods import alerts, imports, invitations, settings_page, views

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
    path("<slug:slug>/invitations/<int:pk>/", invitations.invitation_detail, name="invitation"),
    path("<slug:slug>/invitations/email/", invitations.invitation_email, name="invitation_email"),
    path("<slug:slug>/import/", imports.import_page, name="import"),
    path("<slug:slug>/import/donors/", imports.import_donors, name="import_donors"),
    path(
        "<slug:slug>/import/donors/<uuid:upload>/",
        imports.import_donors_preview,
        name="import_donors_preview",
    ),
    path(
        "<slug:slug>/import/donors/<uuid:upload>/confirm/",
        imports.import_donors_confirm,
        name="import_donors_confirm",
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

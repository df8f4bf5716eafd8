from django.urls import path

from recipients import imports, link, views

app_name = "recipients"

urlpatterns = [
    path("pods/<slug:slug>/refer/", views.refer, name="refer"),
    path("pods/<slug:slug>/waitlist/", views.waitlist, name="waitlist"),
    path("pods/<slug:slug>/waitlist/<int:pk>/", views.referral_detail, name="referral"),
    path("pods/<slug:slug>/waitlist/<int:pk>/move/", views.referral_move, name="referral_move"),
    path(
        "pods/<slug:slug>/waitlist/<int:pk>/withdraw/",
        views.referral_withdraw,
        name="referral_withdraw",
    ),
    path(
        "pods/<slug:slug>/waitlist/<int:pk>/enroll/", views.referral_enroll, name="referral_enroll"
    ),
    path("pods/<slug:slug>/recipients/<int:pk>/", views.recipient_detail, name="recipient"),
    path("pods/<slug:slug>/recipients/<int:pk>/link/", views.link_replace, name="link_replace"),
    path(
        "pods/<slug:slug>/recipients/<int:pk>/link/revoke/", views.link_revoke, name="link_revoke"
    ),
    path("pods/<slug:slug>/recipients/<int:pk>/end/", views.enrollment_end, name="enrollment_end"),
    path("pods/<slug:slug>/import/recipients/", imports.import_recipients, name="import"),
    path(
        "pods/<slug:slug>/import/recipients/<uuid:upload>/",
        imports.import_preview,
        name="import_preview",
    ),
    path(
        "pods/<slug:slug>/import/recipients/<uuid:upload>/confirm/",
        imports.import_confirm,
        name="import_confirm",
    ),
    # The recipient's private link: no sign-in, the secret is the key.
    path("r/<str:token>/", link.link, name="link"),
    path("r/<str:token>/cycles/<int:number>/", link.link_cycle, name="link_cycle"),
    path("r/<str:token>/receipts/<int:pk>/arrived/", link.confirm_arrival, name="confirm_arrival"),
    path("r/<str:token>/leave/", link.leave, name="leave"),
    path("r/<str:token>/language/", link.language, name="link_language"),
]

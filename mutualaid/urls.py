from django.contrib import admin
from django.urls import include, path

import pledges.urls
import pledges.views
import pods.urls
import receipts.link
import recipients.urls
from mutualaid import health, pwa
from pods import views as pod_views

# An outage met outside a view (in a middleware) gets the 503 page too.
handler500 = "mutualaid.middleware.server_error"

urlpatterns = [
    path("", pod_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("pods/<slug:slug>/receipts/", include("receipts.urls")),
    path("pods/", include((pledges.urls.urlpatterns + pods.urls.urlpatterns, "pods"))),
    # /pods/<slug>/refer/, waitlist, recipients… and the private links /r/<secret>/, with
    # the one page of the link that reaches the receipts (erasing at once).
    path(
        "",
        include(
            (
                recipients.urls.urlpatterns
                + [path("r/<str:token>/erase/", receipts.link.erase, name="erase")],
                "recipients",
            )
        ),
    ),
    path("", include("users.urls")),
    # For the load balancer: the process is up; the process can serve (the database answers).
    # Installing the app, and a screenshot shared to it from a phone's share sheet.
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("share/", pledges.views.share_target, name="share_target"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

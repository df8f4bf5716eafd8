"""The app's URLs and, beside them, the bare view that benchmarks/pages.py measures
every page against: what Django itself costs with the same middleware."""

from django.http import HttpResponse
from django.urls import path

from mutualaid.urls import handler500, urlpatterns as app_urlpatterns  # noqa: F401


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bench-bare/", bare), *app_urlpatterns]

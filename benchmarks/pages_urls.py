"""The app's URLs and, beside them, the bare view that benchmarks/pages.py measures
every page against: what Django itself costs with the same middleware."""

from django.http import HttpResponse
from django.urls import path

from mutualaid.urls import handler500  # noqa: F401
from mutualaid.urls import urlpatterns as app_urlpatterns


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bench-bare/", bare), *app_urlpatterns]

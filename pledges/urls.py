from django.urls import path

from pledges import cycles, views

# The pod's own pages that need pledges. They share the "pods" namespace with the pages
# of pods/urls.py (see mutualaid/urls.py): pods sits below pledges and never imports it.
urlpatterns = [
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path("<slug:slug>/pledge/", views.pledge, name="pledge"),
    path("<slug:slug>/this-week/", views.this_week, name="this_week"),
    path("<slug:slug>/plan/<int:week>/", views.plan_review, name="plan"),
    path("<slug:slug>/cycle/", cycles.cycle_page, name="cycle"),
    path("<slug:slug>/cycle/plan/", cycles.cycle_plan, name="cycle_plan"),
    path("<slug:slug>/cycle/change/", cycles.cycle_change, name="cycle_change"),
    path("<slug:slug>/cycle/end-early/", cycles.cycle_end_early, name="cycle_end_early"),
]

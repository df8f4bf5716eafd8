from django.urls import path

from receipts import views

# Mounted under /pods/<slug>/receipts/ (mutualaid/urls.py): every view takes `slug`.
app_name = "receipts"

urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.receipt_create, name="receipt_create"),
    path("shared/<int:pk>/", views.staged_screenshot, name="staged_screenshot"),
    path("export.csv", views.export, name="export"),
    path("<int:pk>/", views.receipt_detail, name="receipt_detail"),
    path("<int:pk>/void/", views.receipt_void, name="receipt_void"),
    path("<int:pk>/screenshot/", views.screenshot, name="screenshot"),
]

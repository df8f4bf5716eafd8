from django.urls import path

from users import unsubscribe, views

app_name = "users"

urlpatterns = [
    path("join/<str:token>/", views.join, name="join"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
]

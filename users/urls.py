from django.urls import path

from users import views

app_name = "users"

urlpatterns = [
    path("join/<str:token>/", views.join, name="join"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
]

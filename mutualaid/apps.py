from django.contrib.admin.apps import AdminConfig


class MutualAidAdminConfig(AdminConfig):
    default_site = "mutualaid.admin.MutualAidAdminSite"

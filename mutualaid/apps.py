from django.contrib.admin.apps import AdminConfig


class MutualAidAdminConfig(AdminConfig):
    default_site = "mutualaid.admin.MutualAidAdminSite"

    def ready(self):
        super().ready()
        from django.contrib import admin
        from django_tasks_db.models import DBTaskResult

        # The task queue's rows hold whole queued emails (sign-in codes among them): no
        # admin page shows them; the operator reads the database or the worker's log.
        if admin.site.is_registered(DBTaskResult):
            admin.site.unregister(DBTaskResult)

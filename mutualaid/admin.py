from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class MutualAidAdminSite(admin.AdminSite):
    """The organizers' admin. Organizers need no staff flag: organizing a pod is what
    lets them in, and every page then shows only the pods they organize."""

    site_header = _("Mutual-aid pods")
    site_title = _("Mutual-aid pods")
    index_title = _("Organize your pods")

    def has_permission(self, request):
        user = request.user
        if not user.is_active:
            return False
        if user.is_staff:
            return True
        from pods.models import Pod

        return Pod.objects.organized_by(user).exists()

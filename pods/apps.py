from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PodsConfig(AppConfig):
    name = "pods"
    verbose_name = _("Pods")

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mutualaid.text import TypedCharField


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        if password:
            user.set_password(password)
        else:
            # Signing in works by an emailed code; a password stays optional.
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a donor, an organizer or a site admin.

    Recipients have no account (they use a private link), so nothing here is about them.
    """

    email = models.EmailField(_("email address"), unique=True)
    display_name = TypedCharField(
        _("display name"),
        max_length=80,
        blank=True,
        help_text=_("How other members of your pods see you. A nickname is fine."),
    )
    anonymous_to_recipients = models.BooleanField(
        _("stay anonymous to recipients"),
        default=False,
        help_text=_(
            "Recipients see your receipts to them as from “a neighbor” instead of your "
            "display name. Members of your pods still see who paid."
        ),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Pages and emails in this language. Empty: your browser's language."),
    )
    alert_emails = models.BooleanField(
        _("email me my pods' alerts"),
        default=True,
        help_text=_(
            "When organizers post a warning to the pod and choose to email it, you get it "
            "by email too."
        ),
    )
    is_staff = models.BooleanField(
        _("site admin"),
        default=False,
        help_text=_("Runs this instance. Organizers do not need it to use the admin."),
    )
    is_active = models.BooleanField(pgettext_lazy("account", "active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["email"]

    def __str__(self):
        return self.display_name or self.email

    def get_full_name(self):
        return str(self)

    def get_short_name(self):
        return str(self)

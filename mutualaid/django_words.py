"""Words of Django's own admin and forms that its Arabic catalog (Django 6.0) leaves
untranslated, and its Spanish one too for most: without these the admin says "Run",
"- Select an option -" and the like in English. They are marked here, in a module that
nothing imports, only so that makemessages puts them in the app's catalogs, which Django
reads before its own. Delete each one once Django's catalogs translate it."""

from django.utils.translation import gettext_noop, ngettext_lazy

WORDS = [
    gettext_noop("Run"),
    gettext_noop("Filter by %(field_name)s"),
    gettext_noop(
        "Deleting the %(object_name)s “%(escaped_object)s” would result in deleting related "
        "objects, but your account doesn't have permission to delete the following types of "
        "objects:"
    ),
    gettext_noop(
        "Deleting the %(object_name)s “%(escaped_object)s” would require deleting the "
        "following protected related objects:"
    ),
    gettext_noop(
        "Are you sure you want to delete the %(object_name)s “%(escaped_object)s”? All of the "
        "following related items will be deleted:"
    ),
    gettext_noop("Pagination %(name)s entries"),
    gettext_noop("Pagination %(name)s"),
    gettext_noop("Search %(name)s"),
    gettext_noop("- Select an option -"),
]

PLURALS = [ngettext_lazy("…and %(count)d more object.", "…and %(count)d more objects.", "count")]

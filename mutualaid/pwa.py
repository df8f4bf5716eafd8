"""The web app manifest: installable on a phone's home screen, in the reader's language
and direction, and a Web Share Target so that a screenshot shared from a payment app
lands on "Post a receipt" (see pledges.views.share_target).

No service worker: the app is served fresh every time, and nothing of a member's pages
or screenshots is ever kept by the browser on the app's behalf."""

import json

from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

# The stylesheet's --color-accent and --color-bg (static/css/app.css).
THEME_COLOUR = "#0b5d4b"
BACKGROUND_COLOUR = "#fbfaf7"
SHARED_FILE_FIELD = "screenshot"


@require_safe
def manifest(request):
    body = {
        "name": _("Mutual-aid pod"),
        "short_name": _("Pod"),
        "description": _("Send your weekly transfer and post its receipt in seconds."),
        "lang": get_language(),
        "dir": "rtl" if get_language_bidi() else "ltr",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {
                "src": static(f"icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in (192, 512)
        ],
        "share_target": {
            "action": reverse("share_target"),
            "method": "POST",
            "enctype": "multipart/form-data",
            "params": {
                "files": [
                    {
                        "name": SHARED_FILE_FIELD,
                        "accept": ["image/png", "image/jpeg", "image/webp"],
                    }
                ]
            },
        },
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Vary"] = "Accept-Language, Cookie"
    return response

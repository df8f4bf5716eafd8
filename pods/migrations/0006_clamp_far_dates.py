"""Bring any date outside the years 2000 to 2199 back into them, before the next
migration makes the database refuse such dates.

Nothing in the app writes them; the admin used to take any date typed (an alert shown
until 9999-12-31, which then took every page of a pod east of UTC down). The far end
becomes the last day of 2199 (still, in effect, forever), the near end the first day of
2000. The forms now ask for nearer dates and say so when such a row is next edited.
"""

import datetime

from django.db import migrations

FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2199, 12, 31)
FIRST_MOMENT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
LAST_MOMENT = datetime.datetime(2199, 12, 31, tzinfo=datetime.UTC)
END_MOMENT = datetime.datetime(2200, 1, 1, tzinfo=datetime.UTC)

FIELDS = [
    ("Alert", "expires_at", True),
    ("Alert", "taken_down_at", True),
    ("Invitation", "expires_at", True),
    ("Cycle", "starts_on", False),
]


def clamp(apps, schema_editor):
    for model_name, field, moment in FIELDS:
        model = apps.get_model("pods", model_name)
        first, last = (FIRST_MOMENT, LAST_MOMENT) if moment else (FIRST_DAY, LAST_DAY)
        too_late = {f"{field}__gte": END_MOMENT} if moment else {f"{field}__gt": LAST_DAY}
        model.objects.filter(**too_late).update(**{field: last})
        model.objects.filter(**{f"{field}__lt": first}).update(**{field: first})


class Migration(migrations.Migration):
    dependencies = [("pods", "0005_cycle_no_overlap")]

    operations = [migrations.RunPython(clamp, migrations.RunPython.noop)]

"""Bring an enrollment's end outside the years 2000 to 2199 back into them, before the
next migration makes the database refuse such dates (see pods 0006)."""

import datetime

from django.db import migrations

FIRST_MOMENT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
LAST_MOMENT = datetime.datetime(2199, 12, 31, tzinfo=datetime.UTC)
END_MOMENT = datetime.datetime(2200, 1, 1, tzinfo=datetime.UTC)


def clamp(apps, schema_editor):
    Enrollment = apps.get_model("recipients", "Enrollment")
    Enrollment.objects.filter(ended_at__gte=END_MOMENT).update(ended_at=LAST_MOMENT)
    Enrollment.objects.filter(ended_at__lt=FIRST_MOMENT).update(ended_at=FIRST_MOMENT)


class Migration(migrations.Migration):
    dependencies = [("recipients", "0005_enrollment_slot_weeks")]

    operations = [migrations.RunPython(clamp, migrations.RunPython.noop)]

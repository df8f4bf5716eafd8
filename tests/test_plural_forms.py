"""Where a number meets a noun, the words follow it: Arabic's six plural forms (zero, one,
two, few, many, other) and Spanish's, each written out; and a one-word message that reads
differently by place has a context of its own (pgettext)."""

from decimal import Decimal

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import pgettext

from pods.models import Cycle
from receipts.models import Receipt
from recipients.forms import ReferralForm

CATALOG = settings.BASE_DIR / "locale" / "{}" / "LC_MESSAGES" / "django.po"


def plural_messages(language):
    with open(str(CATALOG).format(language), "rb") as po:
        return [m for m in read_po(po) if m.id and m.pluralizable]


def test_each_arabic_plural_writes_one_two_and_many_differently():
    lazy = [
        m.id[0] for m in plural_messages("ar") if len({m.string[1], m.string[2], m.string[5]}) < 3
    ]
    assert lazy == []


def test_each_spanish_plural_writes_one_and_many_differently():
    assert [m.id[0] for m in plural_messages("es") if m.string[0] == m.string[2]] == []


@pytest.mark.parametrize(
    ("weeks", "arabic", "spanish"),
    [
        (1, "تتألف هذه الدورة من أسبوع واحد.", "Este ciclo tiene 1 semana."),
        (2, "تتألف هذه الدورة من أسبوعين.", "Este ciclo tiene 2 semanas."),
        (3, "تتألف هذه الدورة من 3 أسابيع.", "Este ciclo tiene 3 semanas."),
        (15, "تتألف هذه الدورة من 15 أسبوعًا.", "Este ciclo tiene 15 semanas."),
        (100, "تتألف هذه الدورة من 100 أسبوع.", "Este ciclo tiene 100 semanas."),
    ],
)
def test_a_cycles_weeks_are_counted_in_each_language(weeks, arabic, spanish):
    cycle = Cycle(weeks=weeks, slots=weeks)
    with translation.override("ar"):
        assert cycle.weeks_message() == arabic
    with translation.override("es"):
        assert cycle.weeks_message() == spanish
    with translation.override("en"):
        assert cycle.weeks_message() == (
            "This cycle has 1 week." if weeks == 1 else f"This cycle has {weeks} weeks."
        )


def test_a_length_limit_counts_its_characters():
    form = ReferralForm(data={"display_name": "x" * 200})
    with translation.override("ar"):
        assert form.errors["display_name"] == ["اجعل الاسم لا يتجاوز 80 حرفًا."]
    form = ReferralForm(data={"display_name": "x" * 200})
    with translation.override("es"):
        assert form.errors["display_name"] == ["El nombre puede tener como máximo 80 caracteres."]


def test_one_word_messages_read_as_their_place_needs():
    with translation.override("ar"):
        # A receipt's state on the board is "posted", not the date it was posted.
        assert pgettext("receipt state", "posted") == "منشور"
        assert str(Receipt._meta.get_field("posted_at").verbose_name) == "تاريخ النشر"
    with translation.override("es"):
        # "All" agrees with the weeks (feminine) and the payers (masculine) it stands for.
        assert (pgettext("all weeks", "All"), pgettext("all payers", "All")) == (
            "Todas",
            "Todos",
        )
        assert str(Receipt._meta.get_field("voided_at").verbose_name) == "fecha de anulación"


@pytest.mark.django_db
def test_the_board_says_posted_in_arabic(client, pod, cycle, recipient, enrollment, donor):
    Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=6,
        recipient=recipient,
        payer=donor,
        amount=Decimal("175.00"),
        method="cashapp",
        sent_on=pod.today(),
        posted_by=donor,
    )
    client.force_login(donor)
    page = client.get(reverse("receipts:board", args=[pod.slug]), headers={"accept-language": "ar"})
    assert "منشور" in page.text
    assert "كل الأسابيع" in page.text

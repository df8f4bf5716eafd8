"""scripts/check_messages.py, the CI check of the catalogs: it names each untranslated,
fuzzy or stale entry, Arabic's plural forms included."""

import importlib.util
from pathlib import Path

from babel.messages.catalog import Catalog
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "check_messages.py"
spec = importlib.util.spec_from_file_location("check_messages", SCRIPT)
check_messages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_messages)

ARABIC_PLURALS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 "
    ": n%100>=11 && n%100<=99 ? 4 : 5;"
)


def catalog(entries, *, fuzzy=False):
    made = Catalog(locale="ar", fuzzy=fuzzy)
    made._num_plurals, made._plural_expr = 6, ARABIC_PLURALS.split("plural=")[1].rstrip(";")
    for msgid, msgstr, *flags in entries:
        made.add(msgid, msgstr, flags=flags)
    return made


def fresh(*msgids):
    return catalog([(msgid, "") for msgid in msgids])


def test_a_whole_catalog_passes():
    committed = catalog(
        [
            ("Sign in", "تسجيل الدخول"),
            (
                ("One receipt", "%(count)s receipts"),
                ("لا إيصالات", "إيصال", "إيصالان", "إيصالات", "إيصالًا", "إيصال"),
            ),
        ]
    )
    assert (
        check_messages.catalog_problems(
            committed, fresh("Sign in", ("One receipt", "%(count)s receipts")), "ar"
        )
        == []
    )


def test_each_kind_of_problem_is_named():
    committed = catalog(
        [
            ("Sign in", ""),
            ("Sign out", "خروج", "fuzzy"),
            (("One receipt", "%(count)s receipts"), ("", "إيصال", "إيصالان", "", "", "")),
            ("Gone from the code", "قديم"),
        ],
        fuzzy=True,
    )
    problems = check_messages.catalog_problems(
        committed,
        fresh("Sign in", "Sign out", ("One receipt", "%(count)s receipts"), "A new string"),
        "ar",
    )
    assert sorted(problems) == sorted(
        [
            "ar: the catalog's header is marked fuzzy",
            "ar: stale, not in the catalog: 'A new string'",
            "ar: stale, no longer in the code: 'Gone from the code'",
            "ar: untranslated: 'One receipt | %(count)s receipts'",
            "ar: untranslated: 'Sign in'",
            "ar: fuzzy: 'Sign out'",
        ]
    )


def test_a_context_tells_two_entries_apart():
    committed = Catalog(locale="es", fuzzy=False)
    committed.add("May", "mayo", context="month")
    wanted = Catalog(locale="es", fuzzy=False)
    wanted.add("May", "", context="month")
    wanted.add("May", "", context="verb")
    assert check_messages.catalog_problems(committed, wanted, "es") == [
        "es: stale, not in the catalog: 'May' (context 'verb')"
    ]

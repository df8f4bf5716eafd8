"""Are the Arabic and Spanish catalogs whole and up to date? Exit 1, listing what is
wrong, when any is not.

makemessages is run on a copy of the project (the repository's files, nothing else), so
the catalogs in locale/ are never touched, and what it writes is compared with them:

- stale: a message the code shows that the committed catalog lacks, or one it holds that
  the code no longer shows (run `make messages` and translate);
- untranslated: an entry with an empty translation, or an empty plural form;
- fuzzy: an entry (or the catalog's header, which carries Arabic's six plural forms)
  marked fuzzy, which gettext skips.

Needs GNU gettext (xgettext, msgmerge), as makemessages does; .ci/run installs it.
Usage: python scripts/check_messages.py [language …]   (default: ar es)
       python scripts/check_messages.py --write [language …]   (`make messages`: update
       the catalogs in locale/ in place, with the same options, for translators)
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["ar", "es"]
# Not the app's: tests, benchmarks and this script show nothing to people.
IGNORED = ["tests", "benchmarks", "scripts", ".venv", ".tools", "staticfiles", "media"]
# What the catalogs are made with; `make messages` runs the same.
MAKEMESSAGES = [
    "makemessages",
    "--no-obsolete",
    # File names only, no line numbers: a change elsewhere in a file leaves the catalogs alone.
    "--add-location=file",
    *(f"--ignore={d}/*" for d in IGNORED),
]


def catalog_path(root, language):
    return Path(root) / "locale" / language / "LC_MESSAGES" / "django.po"


def read(path):
    with open(path, "rb") as po:
        return read_po(po, abort_invalid=True)


def _key(message):
    return (message.context, message.id if isinstance(message.id, str) else tuple(message.id))


def _label(key):
    context, msgid = key
    text = msgid if isinstance(msgid, str) else " | ".join(msgid)
    return f"{text!r}" + (f" (context {context!r})" if context else "")


def catalog_problems(committed, fresh, language):
    """What is wrong with the `committed` catalog, given the `fresh` one makemessages
    makes from the code. Both are Babel catalogs."""
    problems = []
    if committed.fuzzy:
        problems.append(f"{language}: the catalog's header is marked fuzzy")
    have = {_key(m): m for m in committed if m.id}
    want = {_key(m) for m in fresh if m.id}
    problems += [
        f"{language}: stale, not in the catalog: {_label(k)}"
        for k in sorted(want - set(have), key=str)
    ]
    problems += [
        f"{language}: stale, no longer in the code: {_label(k)}"
        for k in sorted(set(have) - want, key=str)
    ]
    for key in sorted(want & set(have), key=str):
        message = have[key]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy:
            problems.append(f"{language}: fuzzy: {_label(key)}")
        if not strings or any(not s for s in strings):
            problems.append(f"{language}: untranslated: {_label(key)}")
    return problems


def project_files(root):
    """The repository's files (committed or new, not ignored): what a fresh clone has."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    return [Path(os.fsdecode(name)) for name in listed if name]


def fresh_catalogs(root, languages):
    """makemessages on a copy of the project: {language: catalog}."""
    with tempfile.TemporaryDirectory(prefix="check-messages-") as copy:
        for name in project_files(root):
            source = Path(root) / name
            if source.is_file():
                target = Path(copy) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        subprocess.run(  # noqa: S603 (our own manage.py, with fixed arguments)
            [
                sys.executable,
                "manage.py",
                *MAKEMESSAGES,
                *(f"--locale={lang}" for lang in languages),
            ],
            cwd=copy,
            check=True,
            env={**os.environ, "DEBUG": "true"},
            stdout=subprocess.DEVNULL,
        )
        return {lang: read(catalog_path(copy, lang)) for lang in languages}


def write_catalogs(root, languages):
    subprocess.run(  # noqa: S603 (our own manage.py, with fixed arguments)
        [sys.executable, "manage.py", *MAKEMESSAGES, *(f"--locale={lang}" for lang in languages)],
        cwd=root,
        check=True,
        env={**os.environ, "DEBUG": "true"},
    )


def main(argv):
    write = "--write" in argv
    languages = [a for a in argv if a != "--write"] or LANGUAGES
    missing = shutil.which("xgettext") is None or shutil.which("msgmerge") is None
    if missing:
        print("check_messages: GNU gettext is needed (apt-get install gettext)", file=sys.stderr)
        return 2
    if write:
        write_catalogs(ROOT, languages)
        return 0
    problems = []
    fresh = fresh_catalogs(ROOT, languages)
    for language in languages:
        path = catalog_path(ROOT, language)
        if not path.is_file():
            problems.append(f"{language}: no catalog at {path.relative_to(ROOT)}")
            continue
        problems += catalog_problems(read(path), fresh[language], language)
    for problem in problems:
        print(problem)
    print(f"check_messages: {len(problems)} problem(s) in {', '.join(languages)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python
import os
import sys

# Commands that read only the code (models, migrations, templates) and serve nothing:
# they need no production secret or host, so unless DEBUG is set they run with the
# developer's settings. Every other command, and the app itself, still refuses to start
# with DEBUG off and no SECRET_KEY (mutualaid/settings.py).
CODE_ONLY = {"makemigrations", "makemessages"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    if len(sys.argv) > 1 and sys.argv[1] in CODE_ONLY:
        os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

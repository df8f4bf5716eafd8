"""Date and number formats where Django's own for a language fall short (settings'
FORMAT_MODULE_PATH): only what differs is here; the rest is Django's."""

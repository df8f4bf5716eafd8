from django.conf import settings


def test_settings_from_conftest():
    assert settings.DEBUG is False
    assert settings.SECRET_KEY == "tests-only-not-a-secret"

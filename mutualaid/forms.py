"""Small pieces shared by the apps' forms."""


def add_service_errors(form, error):
    """Show a service's ValidationError on the form: next to the field it names when the
    form has that field, above the form otherwise."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)

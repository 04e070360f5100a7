"""The web process's entry point (``gunicorn service.wsgi:app``): logging, then the app.

The one module with work at import, because a WSGI server imports an app, it does not
call a factory.
"""

from service import create_app, logs

logs.setup()
app = create_app()

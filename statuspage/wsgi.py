"""WSGI entry point for gunicorn: ``gunicorn statuspage.wsgi:app``."""

from statuspage import create_app

app = create_app()

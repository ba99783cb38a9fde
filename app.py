"""Entry point: `flask --app app ...` and `gunicorn app:app` find the app here."""
from coordination import create_app

app = create_app()

import pytest

from .smtp import SmtpServer

SENDER = "Shelter coordination <no-reply@beds.example.az>"
PUBLIC_URL = "https://beds.example.az"


def mail_settings(port: int) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_DEFAULT_SENDER": SENDER,
            "MAIL_USE_TLS": False, "MAIL_USE_SSL": False, "MAIL_TIMEOUT": 5, "PUBLIC_URL": PUBLIC_URL}


@pytest.fixture
def smtp_server(app):
    """An SMTP server on loopback that the app sends to (not started: see `smtp`)."""
    server = SmtpServer()
    saved = {key: app.config[key] for key in mail_settings(0)}
    app.config.update(mail_settings(server.port))
    yield server
    server.stop()
    app.config.update(saved)


@pytest.fixture
def smtp(smtp_server):
    """The inbox of a running SMTP server that the app sends to."""
    return smtp_server.start().inbox

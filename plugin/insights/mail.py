"""Sending mail through the SMTP server named by MAKERIGHT_SMTP_URL, with the standard library.

`smtp://host:port` sends in the clear (a local relay), `smtp://...?starttls=1` upgrades the
connection, `smtps://host:465` uses implicit TLS; `user:password@` logs in. The password lives in
the environment (read with the other settings in plugin.config), never in the database.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from ..config import MailSettings
from ..errors import MakeRightError

ENV_URL, ENV_FROM = (variable.name for variable in MailSettings.VARIABLES)


class MailError(MakeRightError):
    """Mail is not configured, or the server refused it."""

    code = "mail_failed"
    status = 502



@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # "none", "starttls" or "implicit"
    username: str | None = None
    password: str | None = None
    #: The From address; None means makeright@ this host's name.
    sender: str | None = None

    @classmethod
    def from_url(cls, url: str, sender: str | None = None) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailError(f"{ENV_URL} must look like smtp://host:port or smtps://host:port")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        tls = "implicit" if parts.scheme == "smtps" else "starttls" if starttls else "none"
        return cls(host=parts.hostname, port=parts.port or (465 if tls == "implicit" else 25),
                   tls=tls, username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   sender=sender)

    @classmethod
    def from_settings(cls, settings: MailSettings) -> SmtpSettings:
        if not settings.smtp_url:
            raise MailError(f"set {ENV_URL} (for example smtp://localhost:25) to send email")
        return cls.from_url(settings.smtp_url, settings.digest_from)

    @classmethod
    def from_env(cls) -> SmtpSettings:
        return cls.from_settings(MailSettings.from_env())

    @property
    def from_address(self) -> str:
        return self.sender or f"makeright@{socket.getfqdn()}"


def send(settings: SmtpSettings, messages: list[EmailMessage]) -> None:
    """Send every message over one connection."""
    try:
        if settings.tls == "implicit":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=30,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=30)
        with client:
            if settings.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            for message in messages:
                client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"sending through {settings.host}:{settings.port} failed: {exc}") from exc

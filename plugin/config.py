"""Every setting the environment may change, parsed and checked in one place.

`Settings.from_env()` reads each `MAKERIGHT_*` variable listed here (and the two `OPENAI_*`
ones the OpenAI SDK made conventional), turns it into a typed value, and refuses a bad one with
a message naming the variable and what it expects. The command line builds it once per
invocation and the app factory once per app; the parts below them get their values from it.
This module is the only one in plugin/ that reads `os.environ` (tests/test_settings.py checks).

Flask's own switches (LOGIN_DISABLED, WTF_CSRF_ENABLED, TESTING, DEBUG, ...) and the test hooks
are never read from the environment: a stray `MAKERIGHT_LOGIN_DISABLED=true` in a production
environment must not turn off signing in, and `MAKERIGHT_WTF_CSRF_ENABLED=false` must not turn
off CSRF protection. Code and tests that build an app pass those explicitly to the factory.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from . import setting_values as parse
from .setting_values import SettingsError, Variable

PREFIX = "MAKERIGHT_"
ENV_INSTANCE = "MAKERIGHT_INSTANCE"
# App settings an operator sets in the environment, by their Flask config key.
APP_SETTINGS: tuple[str, ...] = (
    "SECRET_KEY", "DATABASE_URL", "POLICY_DIR", "PROXY_HOPS",
    "LOGIN_FREE_ATTEMPTS", "LOGIN_FREE_ATTEMPTS_PER_ADDRESS", "LOGIN_BASE_DELAY_SECONDS",
    "LOGIN_MAX_DELAY_SECONDS", "LOGIN_WINDOW_MINUTES", "QUEUE_PAGE_SIZE",
    "WEBHOOK_SECRETS", "WEBHOOK_MAX_BYTES", "WEBHOOK_WAIT_SECONDS", "GOOGLE_PUBSUB_TOKEN",
)

#: A post holds its claim through a read, a write and a read, each up to a 10 s connect and a
#: 60 s read timeout; a shorter lease would let the reaper take over a post still in flight.
MIN_LEASE_SECONDS = 60.0
MIN_POLL_SECONDS, MAX_POLL_SECONDS = 0.1, 3600.0
#: Replies one worker process may post at once; more would hold more claims than it can serve.
DEFAULT_POST_CONCURRENCY, MAX_POST_CONCURRENCY = 4, 64
MAX_PROXY_HOPS = 10
STRUCTURED_MODES = ("auto", "json_schema", "prompt")
LOCAL_KEY = "no-key-needed"
def check_lease(seconds: float) -> float:
    """The posting lease, refused when shorter than one post's platform calls may take."""
    if seconds < MIN_LEASE_SECONDS:
        raise SettingsError(f"a lease of {seconds:g} s is shorter than the minimum of "
                            f"{MIN_LEASE_SECONDS:g} s (one post's platform calls may take "
                            "that long)")
    return seconds


def check_poll(seconds: float) -> float:
    if not MIN_POLL_SECONDS <= seconds <= MAX_POLL_SECONDS:
        raise SettingsError(f"a poll interval of {seconds:g} s is outside "
                            f"{MIN_POLL_SECONDS:g}-{MAX_POLL_SECONDS:g} s")
    return seconds


S = TypeVar("S", bound="Section")


class Section:
    """A group of settings read from the variables in `VARIABLES`; unset ones keep defaults."""

    VARIABLES: ClassVar[tuple[Variable, ...]] = ()

    @classmethod
    def from_env(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for variable in cls.VARIABLES:
            raw = environ.get(variable.name)
            if raw is not None and raw.strip():
                values[variable.field] = variable.parse(variable.name, raw)
        return cls(**values)


@dataclass(frozen=True)
class PathSettings(Section):
    """Where the install keeps its files, and which policy it follows."""

    #: Like Flask's instance folder: the SQLite database, the key file, the demo's files.
    instance: Path = field(default_factory=lambda: (Path.cwd() / "instance").resolve())
    policy_dir: Path | None = None

    VARIABLES = (Variable(ENV_INSTANCE, "instance", parse.path),
                 Variable("MAKERIGHT_POLICY_DIR", "policy_dir", parse.path, app_key="POLICY_DIR"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "instance", Path(self.instance).resolve())


@dataclass(frozen=True)
class DatabaseSettings(Section):
    #: SQLAlchemy URL; None means SQLite in the instance folder.
    url: str | None = field(default=None, repr=False)

    VARIABLES = (Variable("MAKERIGHT_DATABASE_URL", "url", parse.stripped, secret=True,
                          app_key="DATABASE_URL"),)


@dataclass(frozen=True)
class WebSettings(Section):
    """The review queue: its session key, proxies, sign-in throttle and page size."""

    secret_key: str = field(default="", repr=False)
    proxy_hops: int = 0
    login_free_attempts: int = 3
    login_free_attempts_per_address: int = 20
    login_base_delay_seconds: float = 1.0
    login_max_delay_seconds: float = 900.0
    login_window_minutes: int = 60
    queue_page_size: int = 50

    VARIABLES = (
        Variable("MAKERIGHT_SECRET_KEY", "secret_key", parse.text, secret=True,
                 app_key="SECRET_KEY"),
        Variable("MAKERIGHT_PROXY_HOPS", "proxy_hops",
                 parse.whole(0, MAX_PROXY_HOPS, "a whole number of reverse proxies"),
                 app_key="PROXY_HOPS"),
        Variable("MAKERIGHT_LOGIN_FREE_ATTEMPTS", "login_free_attempts", parse.whole(0),
                 app_key="LOGIN_FREE_ATTEMPTS"),
        Variable("MAKERIGHT_LOGIN_FREE_ATTEMPTS_PER_ADDRESS", "login_free_attempts_per_address",
                 parse.whole(0), app_key="LOGIN_FREE_ATTEMPTS_PER_ADDRESS"),
        Variable("MAKERIGHT_LOGIN_BASE_DELAY_SECONDS", "login_base_delay_seconds",
                 parse.number(0, "a number of seconds"), app_key="LOGIN_BASE_DELAY_SECONDS"),
        Variable("MAKERIGHT_LOGIN_MAX_DELAY_SECONDS", "login_max_delay_seconds",
                 parse.number(0, "a number of seconds"), app_key="LOGIN_MAX_DELAY_SECONDS"),
        Variable("MAKERIGHT_LOGIN_WINDOW_MINUTES", "login_window_minutes",
                 parse.whole(1, what="a whole number of minutes"), app_key="LOGIN_WINDOW_MINUTES"),
        Variable("MAKERIGHT_QUEUE_PAGE_SIZE", "queue_page_size",
                 parse.whole(1, what="a whole number of reviews"), app_key="QUEUE_PAGE_SIZE"),
    )


@dataclass(frozen=True)
class WebhookSettings(Section):
    """Inbound webhooks (signing secrets, Pub/Sub token, limits) and outbound delivery."""

    #: Comma-separated `whsec_...` secrets, beside the ones stored in the database.
    secrets: str | None = field(default=None, repr=False)
    max_bytes: int | None = None
    wait_seconds: float | None = None
    google_pubsub_token: str | None = field(default=None, repr=False)
    #: Outbound events may go to private addresses (local development only).
    allow_private: bool = False

    VARIABLES = (
        Variable("MAKERIGHT_WEBHOOK_SECRETS", "secrets", parse.text, secret=True,
                 app_key="WEBHOOK_SECRETS"),
        Variable("MAKERIGHT_WEBHOOK_MAX_BYTES", "max_bytes",
                 parse.whole(1, what="a whole number of bytes"), app_key="WEBHOOK_MAX_BYTES"),
        Variable("MAKERIGHT_WEBHOOK_WAIT_SECONDS", "wait_seconds",
                 parse.number(0, "a number of seconds"), app_key="WEBHOOK_WAIT_SECONDS"),
        Variable("MAKERIGHT_GOOGLE_PUBSUB_TOKEN", "google_pubsub_token", parse.text, secret=True,
                 app_key="GOOGLE_PUBSUB_TOKEN"),
        Variable("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", "allow_private", parse.switch),
    )


@dataclass(frozen=True)
class WorkerSettings(Section):
    """What a deployment tunes in the pipeline; None keeps the pipeline's default."""

    lease_seconds: float | None = None
    poll_seconds: float | None = None
    #: Replies one worker process posts at once (each platform's own cap still applies).
    post_concurrency: int | None = None

    VARIABLES = (
        Variable("MAKERIGHT_WORKER_LEASE_SECONDS", "lease_seconds",
                 parse.checked(parse.seconds, check_lease)),
        Variable("MAKERIGHT_WORKER_POLL_SECONDS", "poll_seconds",
                 parse.checked(parse.seconds, check_poll)),
        Variable("MAKERIGHT_WORKER_POST_CONCURRENCY", "post_concurrency",
                 parse.whole(1, MAX_POST_CONCURRENCY)),
    )


@dataclass(frozen=True)
class LLMSettings(Section):
    """The LLM engine: any OpenAI-compatible server (OpenAI, Azure OpenAI's v1 endpoint,
    Ollama, vLLM, llama.cpp, LM Studio), so a base URL, a model name and an optional key. Local
    servers need no key; the SDK insists on one, so a placeholder is sent instead."""

    model: str = ""
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: Seconds for one HTTP call, connect included; a hung server fails the call after this.
    timeout: float = 60.0
    #: Drafts in flight at once in `draft_many`.
    concurrency: int = 8
    #: Prompt plus completion tokens per UTC day; 0 means no ceiling.
    daily_token_budget: int = 1_000_000
    #: Review characters sent to the model; the rest is cut (cost and injection surface).
    max_review_chars: int = 3000
    #: HTTP attempts per model call (first try included) for transient failures.
    max_attempts: int = 3
    #: The longest Retry-After honoured; a server asking for more is not retried in-process.
    max_retry_after: float = 30.0
    max_output_tokens: int = 700
    temperature: float | None = None
    #: json_schema: response_format; prompt: schema in the prompt; auto: the first, then the
    #: second if the server rejects response_format.
    structured_output: str = "auto"
    examples: int = 3

    VARIABLES = (
        Variable("MAKERIGHT_LLM_MODEL", "model", parse.stripped),
        # The SDK's conventional variable first, so MakeRight's own wins when both are set.
        Variable("OPENAI_BASE_URL", "base_url", parse.stripped),
        Variable("MAKERIGHT_LLM_BASE_URL", "base_url", parse.stripped),
        Variable("OPENAI_API_KEY", "api_key", parse.stripped, secret=True),
        Variable("MAKERIGHT_LLM_TIMEOUT", "timeout", parse.number(0, "a number of seconds")),
        Variable("MAKERIGHT_LLM_CONCURRENCY", "concurrency", parse.whole(1)),
        Variable("MAKERIGHT_LLM_DAILY_TOKENS", "daily_token_budget",
                 parse.whole(0, what="a whole number of tokens (0: no ceiling)")),
        Variable("MAKERIGHT_LLM_MAX_REVIEW_CHARS", "max_review_chars", parse.whole(0)),
        Variable("MAKERIGHT_LLM_MAX_ATTEMPTS", "max_attempts", parse.whole(1)),
        Variable("MAKERIGHT_LLM_MAX_RETRY_AFTER", "max_retry_after",
                 parse.number(0, "a number of seconds")),
        Variable("MAKERIGHT_LLM_MAX_OUTPUT_TOKENS", "max_output_tokens", parse.whole(0)),
        Variable("MAKERIGHT_LLM_TEMPERATURE", "temperature", parse.number(0)),
        Variable("MAKERIGHT_LLM_STRUCTURED_OUTPUT", "structured_output",
                 parse.choice(*STRUCTURED_MODES)),
        Variable("MAKERIGHT_LLM_EXAMPLES", "examples", parse.whole(0)),
    )

    def __post_init__(self) -> None:
        if self.structured_output not in STRUCTURED_MODES:
            raise SettingsError(
                f"structured output must be one of {', '.join(STRUCTURED_MODES)}")
        if self.concurrency < 1 or self.max_attempts < 1:
            raise SettingsError("concurrency and max_attempts must be at least 1")

    @property
    def missing(self) -> str:
        """Why no LLM is configured, in words an operator can act on; empty when it is."""
        if not self.model:
            return "MAKERIGHT_LLM_MODEL is not set"
        if not (self.api_key or self.base_url):
            return "neither OPENAI_API_KEY nor MAKERIGHT_LLM_BASE_URL/OPENAI_BASE_URL is set"
        return ""

    @property
    def configured(self) -> bool:
        return not self.missing

    @property
    def is_openai(self) -> bool:
        return self.base_url is None or "api.openai.com" in self.base_url

    @property
    def client_key(self) -> str:
        return self.api_key or LOCAL_KEY


@dataclass(frozen=True)
class MailSettings(Section):
    """The SMTP server for digests (its password lives here, never in the database)."""

    smtp_url: str | None = field(default=None, repr=False)
    #: From address of digests; None means makeright@ this host's name.
    digest_from: str | None = None

    VARIABLES = (Variable("MAKERIGHT_SMTP_URL", "smtp_url", parse.stripped, secret=True),
                 Variable("MAKERIGHT_DIGEST_FROM", "digest_from", parse.stripped))


@dataclass(frozen=True)
class SecretSettings(Section):
    """Keys that seal stored credentials; None means the instance folder's key file."""

    keys: str | None = field(default=None, repr=False)

    VARIABLES = (Variable("MAKERIGHT_SECRET_KEYS", "keys", parse.text, secret=True),)


@dataclass(frozen=True)
class AccountSettings(Section):
    """Passwords given to `makeright demo` and `makeright user add` without a prompt."""

    demo_password: str | None = field(default=None, repr=False)
    user_password: str | None = field(default=None, repr=False)

    VARIABLES = (Variable("MAKERIGHT_DEMO_PASSWORD", "demo_password", parse.text, secret=True),
                 Variable("MAKERIGHT_USER_PASSWORD", "user_password", parse.text, secret=True))


@dataclass(frozen=True)
class Settings:
    """Everything the environment configures, typed and checked; built once per process
    entry (a command, an app) and handed down."""

    paths: PathSettings = field(default_factory=PathSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    web: WebSettings = field(default_factory=WebSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    secrets: SecretSettings = field(default_factory=SecretSettings)
    accounts: AccountSettings = field(default_factory=AccountSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 instance: str | os.PathLike[str] | None = None) -> Settings:
        """Every section read from `environ` (default: this process's environment);
        `instance` overrides MAKERIGHT_INSTANCE. A bad value raises SettingsError naming it."""
        environ = os.environ if environ is None else environ
        built: dict[str, Any] = {name: section.from_env(environ)
                                 for name, section in SECTIONS.items()}
        if instance is not None:
            built["paths"] = PathSettings(Path(instance), built["paths"].policy_dir)
        return cls(**built)

    @classmethod
    def variables(cls) -> Iterator[Variable]:
        """Every environment variable the settings read."""
        for section in SECTIONS.values():
            yield from section.VARIABLES

    def value(self, variable: Variable) -> Any:
        section = next(name for name, kind in SECTIONS.items() if variable in kind.VARIABLES)
        return getattr(getattr(self, section), variable.field)

    def app_config(self) -> dict[str, Any]:
        """The Flask config keys the environment sets, every one of APP_SETTINGS."""
        config = {variable.app_key: self.value(variable) for variable in self.variables()
                  if variable.app_key}
        if config["POLICY_DIR"] is not None:
            config["POLICY_DIR"] = str(config["POLICY_DIR"])
        return {key: config[key] for key in APP_SETTINGS}

    def shown(self) -> list[tuple[str, str]]:
        """(variables, effective value) for each setting, secrets masked; a setting read
        from two variables (the LLM base URL) is one row naming both."""
        names: dict[tuple[type[Section], str], list[str]] = {}
        for section in SECTIONS.values():
            for variable in section.VARIABLES:
                names.setdefault((section, variable.field), []).insert(0, variable.name)
        rows = []
        for variable in self.variables():
            key = next((section, variable.field) for section in SECTIONS.values()
                       if variable in section.VARIABLES)
            if names[key][0] != variable.name:
                continue
            value = self.value(variable)
            if value is None or value == "":
                text = "(not set)"
            elif variable.secret:
                text = "(set, hidden)"
            else:
                text = str(value)
            rows.append((" or ".join(names[key]), text))
        return rows


SECTIONS: dict[str, type[Section]] = {
    "paths": PathSettings, "database": DatabaseSettings, "web": WebSettings,
    "webhooks": WebhookSettings, "worker": WorkerSettings, "llm": LLMSettings,
    "mail": MailSettings, "secrets": SecretSettings, "accounts": AccountSettings,
}


def app_settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The app settings present in the environment, and only those in `APP_SETTINGS`."""
    environ = os.environ if environ is None else environ
    config = Settings.from_env(environ).app_config()
    present = {variable.app_key for variable in Settings.variables()
               if variable.app_key and (environ.get(variable.name) or "").strip()}
    return {key: config[key] for key in APP_SETTINGS if key in present}


def instance_path() -> Path:
    """Where an installation keeps its database and local files (like Flask's instance folder).

    Here on the ground floor so the policy can find the instance's own copy without the store."""
    return PathSettings.from_env().instance

"""Client settings: defaults, derived values and clear refusals of bad values."""

from __future__ import annotations

import pytest

from vzaps_async import Client, ClientConfig, InputError, Limits, RetryPolicy, Secret, Timeouts


def test_realtime_url_follows_a_non_default_base_url() -> None:
    """A simulator or staging base URL serves realtime too; the real API keeps its own host."""
    assert ClientConfig().realtime_url == "wss://realtime.vzaps.com"
    assert ClientConfig(base_url="http://127.0.0.1:8080/").realtime_url == "ws://127.0.0.1:8080"
    assert ClientConfig(base_url="https://staging.example").realtime_url == "wss://staging.example"
    explicit = ClientConfig(base_url="http://127.0.0.1:1", realtime_url="ws://127.0.0.1:2/")
    assert explicit.realtime_url == "ws://127.0.0.1:2"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ClientConfig(base_url="api.vzaps.com"), "base_url"),
        (lambda: ClientConfig(requests_per_second=0), "requests_per_second"),
        (lambda: ClientConfig(instance_auth="cookie"), "instance_auth"),  # type: ignore[arg-type]
        (lambda: Timeouts(total=0), "total"),
        (lambda: Limits(max_connections=0), "max_connections"),
        (lambda: RetryPolicy(max_attempts=0), "max_attempts"),
        (lambda: RetryPolicy(base_delay=-1), "base_delay"),
    ],
)
def test_bad_settings_name_the_field(build: object, field: str) -> None:
    """Each invalid setting is refused with a message naming the field."""
    with pytest.raises(ValueError, match=field):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_credentials_are_refused(value: str) -> None:
    """An empty client token or secret is refused before any request, naming the argument."""
    with pytest.raises(ValueError, match="client_token"):
        Client(value, "secret")
    with pytest.raises(ValueError, match="client_secret"):
        Client("token", value)


def test_from_env_names_missing_variables() -> None:
    """Client.from_env says which variables are missing."""
    with pytest.raises(InputError, match="VZAPS_CLIENT_SECRET"):
        Client.from_env(env={"VZAPS_CLIENT_TOKEN": "t"})
    client = Client.from_env(
        env={
            "VZAPS_CLIENT_TOKEN": "t",
            "VZAPS_CLIENT_SECRET": "s",
            "VZAPS_BASE_URL": "http://127.0.0.1:9",
        }
    )
    assert client.config.base_url == "http://127.0.0.1:9"
    assert repr(client) == "Client(base_url='http://127.0.0.1:9')"


def test_secret_repr_and_format_are_redacted() -> None:
    """A Secret shows only a short prefix in repr, str and f-strings, and refuses empty values."""
    secret = Secret("inst_abcdefghijklmnop")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}"):
        assert "abcdefghijklmnop" not in text
    assert secret.reveal() == "inst_abcdefghijklmnop"
    with pytest.raises(ValueError, match="empty"):
        Secret("")


def test_webhook_urls_hide_their_secret_in_reprs() -> None:
    """Webhook URLs in models show only scheme and host: a receiver's secret sits in the path."""
    from vzaps_async._convert import structure
    from vzaps_async.models import InstanceInfo, WebhookConfig, WebhookLog

    url = "https://user:pw@bot.example.com/webhook/s3cr3t-path?secret=s3cr3t-query"
    texts = [
        repr(structure({"id": "VZ1", "name": "abc", "webhook": url}, InstanceInfo)),
        repr(WebhookConfig(webhook=url)),
        repr(structure({"id": "log_1", "url": url}, WebhookLog)),
    ]
    for text in texts:
        assert "bot.example.com/…" in text
        assert "s3cr3t" not in text
        assert "pw@" not in text
    assert WebhookConfig(webhook=url).webhook == url


def test_a_client_given_a_base_url_streams_realtime_from_it_too() -> None:
    """Client(base_url=...) and from_env with VZAPS_BASE_URL never keep the production realtime
    host; an explicit realtime URL (config or VZAPS_REALTIME_URL) is kept."""
    client = Client("ct", "cs", base_url="http://127.0.0.1:1")
    assert client.config.realtime_url == "ws://127.0.0.1:1"
    env = {"VZAPS_CLIENT_TOKEN": "ct", "VZAPS_CLIENT_SECRET": "cs"}
    staged = Client.from_env(env={**env, "VZAPS_BASE_URL": "https://staging.example"})
    assert staged.config.realtime_url == "wss://staging.example"
    named = Client.from_env(
        env={**env, "VZAPS_BASE_URL": "http://127.0.0.1:1", "VZAPS_REALTIME_URL": "ws://h:2"}
    )
    assert named.config.realtime_url == "ws://h:2"
    explicit = ClientConfig(realtime_url="ws://127.0.0.1:3")
    assert Client("ct", "cs", config=explicit, base_url="http://x:1").config.realtime_url == (
        "ws://127.0.0.1:3"
    )

"""Slack notifier against a local stand-in: right payload, failures never raise, URL never logged."""
import io
import socket

from conftest_ops import FakeSlack

from cli.alerts import SlackNotifier
from cli.logs import configure_logging


def test_send_posts_text_json_to_the_webhook():
    with FakeSlack() as slack:
        assert SlackNotifier(slack.url).send("hello ops") is True
    assert slack.messages == [{"text": "hello ops"}]
    assert slack.paths == ["/services/T000/B000/SECRETTOKEN123"]


def test_http_error_is_logged_not_raised_and_url_never_logged():
    stream = io.StringIO()
    configure_logging("DEBUG", stream, secrets=[])
    with FakeSlack(status=500) as slack:
        notifier = SlackNotifier(slack.url)
        assert notifier.send("boom") is False
    assert "alert_failed" in stream.getvalue()
    assert "SECRETTOKEN123" not in stream.getvalue()
    assert "SECRETTOKEN123" not in repr(notifier)


def test_unreachable_webhook_returns_false_without_leaking_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stream = io.StringIO()
    configure_logging("DEBUG", stream, secrets=[])
    url = f"http://127.0.0.1:{port}/services/T1/B1/SECRETTOKEN123"
    assert SlackNotifier(url, timeout_sec=1).send("x") is False
    assert "alert_failed" in stream.getvalue()
    assert "SECRETTOKEN123" not in stream.getvalue()


def test_missing_webhook_is_disabled_and_skips():
    notifier = SlackNotifier.from_env({})
    assert notifier.enabled is False
    assert notifier.send("x") is False

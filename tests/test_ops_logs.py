"""JSON logs on `donchian_bot`: LOG_LEVEL honoured, secrets masked, SAFE_CONSOLE_BANNER marks the banner."""
import io
import json

from cli.logs import configure_logging, get_logger, log_startup_banner, secrets_from_env


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_level_filters_and_each_line_is_json():
    stream = io.StringIO()
    logger = configure_logging("WARNING", stream, secrets=[])
    logger.info("quiet")
    get_logger("alerts").warning("loud", extra={"event": "x"})
    [only] = lines(stream)
    assert only["message"] == "loud" and only["level"] == "WARNING" and only["event"] == "x"
    assert only["name"] == "donchian_bot.alerts"


def test_debug_level_and_unknown_level_fall_back_to_info():
    stream = io.StringIO()
    configure_logging("DEBUG", stream, secrets=[]).debug("verbose")
    assert lines(stream)[0]["message"] == "verbose"
    stream = io.StringIO()
    logger = configure_logging("chatty", stream, secrets=[])
    logger.debug("hidden")
    logger.info("shown")
    assert [line["message"] for line in lines(stream)] == ["shown"]


def test_secrets_from_env_are_masked_in_messages_and_extra_fields():
    env = {"BINANCE_SECRET": "abcd1234secret", "SLACK_WEBHOOK_URL": "https://hooks.example/T/B/XYZ", "HOME": "/root"}
    stream = io.StringIO()
    logger = configure_logging("INFO", stream, secrets=secrets_from_env(env))
    logger.info("key %s failed", "abcd1234secret", extra={"url": "https://hooks.example/T/B/XYZ"})
    text = stream.getvalue()
    assert "abcd1234secret" not in text and "XYZ" not in text
    assert lines(stream)[0]["message"] == "key *** failed"
    assert "/root" not in secrets_from_env(env)


def test_safe_console_banner_marks_the_startup_line():
    stream = io.StringIO()
    logger = configure_logging("INFO", stream, secrets=[])
    text = log_startup_banner(logger, "testnet", "0.1.0", ["BTC/USDT"], safe=True)
    assert text.startswith("[SAFE MODE]")
    assert lines(stream)[0]["event"] == "startup_banner" and lines(stream)[0]["safe_mode"] is True
    assert not log_startup_banner(logger, "live", "0.1.0", ["BTC/USDT"], safe=False).startswith("[SAFE")

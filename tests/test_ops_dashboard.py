"""The Grafana dashboard and alert rules only use metrics the bot exports, and show every seed metric."""
import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from cli.metrics import BotMetrics

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "ops" / "grafana" / "dashboards" / "donchian-bot.json"
PROMQL_FUNCTIONS = {"sum", "by", "increase", "rate", "histogram_quantile", "time", "abs", "le", "kind", "reason",
                    "symbol", "side", "account", "source", "up"}


def exported_names() -> set[str]:
    registry = CollectorRegistry()
    BotMetrics(registry)
    names = set()
    for family in registry.collect():
        names.add(family.name)
        names.update({f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count", f"{family.name}_sum"})
    return names


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    return {t for t in re.findall(r"[a-z_][a-z0-9_]*", expr) if t not in PROMQL_FUNCTIONS}


def dashboard_exprs() -> list[str]:
    doc = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in doc["panels"] for t in p["targets"]]


def test_dashboard_queries_only_exported_metrics():
    exported = exported_names()
    for expr in dashboard_exprs():
        unknown = metric_names(expr) - exported
        assert not unknown, f"{expr}: {unknown}"


def test_dashboard_shows_every_seed_metric():
    used = set().union(*(metric_names(e) for e in dashboard_exprs()))
    for name in ("bot_equity", "bot_daily_drawdown", "bot_avg_r_atr_30", "bot_signal_emitted_total",
                 "bot_trade_count_total", "bot_order_errors_total", "bot_time_drift_ms", "bot_heartbeat_ts",
                 "flatten_failures_total", "flatten_partial_total", "tp_orders_placed_total", "tp_fills_total",
                 "order_latency_seconds_bucket", "bot_loop_latency_seconds_bucket"):
        assert name in used, name


def test_dashboard_panels_have_unique_ids_and_a_prometheus_datasource():
    doc = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    assert all(p["datasource"]["type"] == "prometheus" for p in doc["panels"])


def test_alert_rules_only_use_exported_metrics():
    exported = exported_names() | {"up"}
    groups = yaml.safe_load((ROOT / "ops" / "prometheus" / "alerts.yml").read_text())["groups"]
    for rule in (r for g in groups for r in g["rules"]):
        assert not metric_names(rule["expr"]) - exported, rule["alert"]

"""docker-compose.yml (Docker cannot run here): it names only settings the code reads, every search attribute."""

from __future__ import annotations

from pathlib import Path

import yaml

from config import Settings
from workflows.search_attributes import ALL_KEYS, cli_type

COMPOSE = yaml.safe_load((Path(__file__).parent.parent / "docker-compose.yml").read_text(encoding="utf-8"))


def test_every_contestflow_variable_is_a_setting() -> None:
    fields = {f"CONTESTFLOW_{name.upper()}" for name in Settings.model_fields}
    for name in ("migrate", "api", "worker"):
        service = COMPOSE["services"][name]
        assert set(service["environment"]) <= fields, name
        assert service["environment"]["CONTESTFLOW_TEMPORAL_ADDRESS"] == "temporal:7233"


def test_every_search_attribute_is_created_with_its_type() -> None:
    command = " ".join(COMPOSE["services"]["temporal-search-attributes"]["command"])
    for key in ALL_KEYS:
        assert f"{key.name}={cli_type(key)}" in command


def test_the_production_shape_is_complete() -> None:
    services = COMPOSE["services"]
    assert {"postgresql", "temporal", "temporal-ui", "mailpit", "migrate", "api", "worker"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert all(p.startswith("127.0.0.1:") for p in published)

"""docker-compose.yml, checked without Docker (it cannot run here): every variable resolves the way `docker compose`
interpolates it, the services' settings parse as the code reads them and point at services that exist on the ports
they listen on, volumes and mounts exist, workers scale, and the Temporal server gets every search attribute."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url
from temporalio.service import TLSConfig

from config import Settings
from config.temporal import connect_options
from workflows.search_attributes import ALL_KEYS, cli_type

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ("migrate", "api", "worker")
REQUIRED = {"CONTESTFLOW_PERSONAL_DATA_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}")


class Unresolved(ValueError):
    """A `${NAME:?message}` whose variable is not set."""


def interpolate(text: str, env: dict[str, str]) -> str:
    """What `docker compose` makes of a value: `${X}`, `${X:-default}`, `${X:?error}`; `$$` is a literal `$`."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        value = env.get(name)
        if op in (":?", "?") and not value:
            raise Unresolved(f"{name}: {arg}")
        if op == ":-" and not value:
            return arg
        if op == "-" and value is None:
            return arg
        return value or ""

    return VARIABLE.sub(one, text.replace("$$", "\x00")).replace("\x00", "$")


def environment(name: str, env: dict[str, str] = REQUIRED) -> dict[str, str]:
    """A service's environment after interpolation."""
    return {k: interpolate(str(v), env) for k, v in (SERVICES[name].get("environment") or {}).items()}


def settings_of(name: str) -> Settings:
    """The settings the code reads in that service's container."""
    env = environment(name)
    values = {k.removeprefix("CONTESTFLOW_").lower(): v for k, v in env.items() if k.startswith("CONTESTFLOW_")}
    return Settings.model_validate(values)


def test_every_variable_resolves_and_the_key_is_required() -> None:
    for name in SERVICES:
        environment(name)  # raises on anything unresolved
    with pytest.raises(Unresolved, match="CONTESTFLOW_PERSONAL_DATA_KEY"):
        environment("api", {})
    assert environment("temporal", {"POSTGRES_PASSWORD": "s3cret"})["POSTGRES_PWD"] == "s3cret"
    fields = {f"CONTESTFLOW_{n.upper()}" for n in Settings.model_fields}
    for name in APP_SERVICES:
        assert {k for k in environment(name) if k.startswith("CONTESTFLOW_")} <= fields, name


def test_settings_point_at_services_on_the_ports_they_listen_on() -> None:
    for name in APP_SERVICES:
        settings = settings_of(name)
        database = make_url(settings.effective_database_url)
        postgres = environment("postgresql")
        assert (database.drivername, database.host, database.port) == ("postgresql+asyncpg", "postgresql", 5432)
        assert (database.username, database.password, database.database) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
            postgres["POSTGRES_DB"],
        )
        assert settings.temporal_address == "temporal:7233" and "temporal" in SERVICES
        assert settings.smtp_host == "mailpit" and "mailpit" in SERVICES
        assert environment("mailpit")["MP_SMTP_BIND_ADDR"].endswith(f":{settings.smtp_port}")
        assert str(settings.data_dir) == "/data"
    api, worker = settings_of("api"), settings_of("worker")
    assert api.api_host == "0.0.0.0" and f"127.0.0.1:{api.api_port}:{api.api_port}" in SERVICES["api"]["ports"]
    assert f"http://127.0.0.1:{api.api_port}/health" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert worker.worker_metrics_host == "0.0.0.0" and str(worker.worker_metrics_port) in SERVICES["worker"]["expose"]
    assert f":{worker.worker_metrics_port}/metrics" in " ".join(SERVICES["worker"]["healthcheck"]["test"])
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs["contestflow-api"]["static_configs"][0]["targets"] == [f"api:{api.api_port}"]
    assert jobs["contestflow-worker"]["dns_sd_configs"][0] == {
        "names": ["worker"],
        "type": "A",
        "port": worker.worker_metrics_port,
    }
    assert urlsplit(api.effective_temporal_ui_url).port == int(SERVICES["temporal-ui"]["ports"][0].split(":")[1])


def test_volumes_mounts_and_dependencies_exist() -> None:
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).is_file(), (name, source)
            else:
                assert source in declared, (name, source)
        assert set(service.get("depends_on", [])) <= set(SERVICES), name
    assert {"postgres-data", "app-data", "mail-data"} <= declared
    for name in ("api", "worker"):
        assert "app-data:/data" in SERVICES[name]["volumes"]  # uploads written by the API, read by activities
        assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert SERVICES["migrate"]["restart"] == "no" and SERVICES["migrate"]["command"][-1] == "db.migrate"


def test_the_workers_scale_and_everything_long_lived_is_checked() -> None:
    worker = SERVICES["worker"]
    assert worker["deploy"]["replicas"] >= 2 and "ports" not in worker and "container_name" not in worker
    for name in ("postgresql", "temporal", "mailpit", "api", "worker"):
        assert SERVICES[name]["healthcheck"]["test"], name
    published = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert published and all(p.startswith("127.0.0.1:") for p in published)
    assert SERVICES["temporal"]["environment"]["DB"] == "postgres12"
    assert {"postgresql", "temporal", "temporal-ui", "mailpit", "migrate", "api", "worker", "prometheus"} <= set(
        SERVICES
    )


def test_every_search_attribute_is_created_with_its_type() -> None:
    command = " ".join(SERVICES["temporal-search-attributes"]["command"])
    for key in ALL_KEYS:
        assert f"{key.name}={cli_type(key)}" in command
    assert SERVICES["api"]["depends_on"]["temporal-search-attributes"] == {
        "condition": "service_completed_successfully"
    }


def test_every_setting_is_documented_in_the_env_example() -> None:
    listed = set(re.findall(r"CONTESTFLOW_[A-Z_]+", (ROOT / ".env.example").read_text(encoding="utf-8")))
    assert {f"CONTESTFLOW_{n.upper()}" for n in Settings.model_fields} == listed


def test_a_secured_cluster_gets_tls_from_a_client_certificate_or_an_api_key(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    embedded = connect_options(Settings.model_validate({}))
    assert (embedded["tls"], embedded["api_key"], embedded["namespace"]) == (False, None, "default")
    mtls = connect_options(Settings.model_validate({"temporal_tls_cert": str(cert), "temporal_tls_key": str(key)}))
    assert isinstance(mtls["tls"], TLSConfig) and mtls["tls"].client_private_key == key.read_bytes()
    cloud = connect_options(Settings.model_validate({"temporal_api_key": "k", "temporal_namespace": "ln.acct"}))
    assert (cloud["tls"], cloud["api_key"], cloud["namespace"]) == (True, "k", "ln.acct")

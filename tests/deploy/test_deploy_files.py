"""The deployment files are valid and agree with the code (no Docker or cluster needed).

docker-compose.yml is validated against the Compose specification's JSON Schema (as
vendored by check-jsonschema), the Kubernetes manifests against the Kubernetes API
schemas bundled by kubernetes-validate, and the KEDA ScaledObject against a schema of
ours written from KEDA's documented fields (no CRD schema ships on PyPI).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from streams.config import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"


def settings_variables() -> set[str]:
    """Every KHABAR_* variable the code reads (streams/config.py)."""
    return set(re.findall(r'"(KHABAR_[A-Z_]+)"', (REPO / "streams" / "config.py").read_text("utf-8")))


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text("utf-8"))
    return document


def test_compose_file_matches_the_compose_specification() -> None:
    schema_file = importlib.metadata.distribution("check-jsonschema").locate_file(
        "check_jsonschema/builtin_schemas/vendor/compose-spec.json"
    )
    schema = json.loads(Path(str(schema_file)).read_text("utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=str)
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_compose_runs_kafka_two_workers_a_feeder_prometheus_and_grafana() -> None:
    services = compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert str(kafka_env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"]) == "1"
    worker = services["worker"]
    assert worker["command"] == ["khabar", "worker"]
    assert worker["deploy"]["replicas"] == 2
    env = worker["environment"]
    assert env["KHABAR_BROKER"] == "kafka:9092"
    assert env["KHABAR_WEB_HOST"] == "0.0.0.0"
    assert set(env) <= settings_variables(), set(env) - settings_variables()
    assert any(str(v).endswith(":/data") or v == "/data" for v in worker["volumes"])
    assert any(str(p).endswith(f":{env['KHABAR_WEB_PORT']}") for p in worker["ports"])
    assert services["feeder"]["command"][:2] == ["khabar", "feed"]
    mounts = " ".join(services["prometheus"]["volumes"])
    assert "deploy/prometheus/alerts.yml" in mounts and "deploy/prometheus/prometheus.yml" in mounts
    grafana = " ".join(services["grafana"]["volumes"])
    assert "deploy/grafana/provisioning" in grafana and "deploy/grafana/dashboards" in grafana
    for volume in (mounts + " " + grafana).split():
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (REPO / source).exists(), f"compose mounts {source}, which is not in the repository"


def manifests() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, document)
        for path in sorted(K8S.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text("utf-8"))
        if document
    ]


@pytest.mark.parametrize(
    ("name", "document"), [m for m in manifests() if m[1]["apiVersion"] != "keda.sh/v1alpha1"]
)
def test_kubernetes_manifests_match_the_api_schemas(name: str, document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_keda_scaled_object_matches_its_schema() -> None:
    schema = json.loads((Path(__file__).parent / "keda_scaledobject.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    (scaled,) = [d for _, d in manifests() if d["apiVersion"] == "keda.sh/v1alpha1"]
    jsonschema.validate(scaled, schema, cls=jsonschema.Draft202012Validator)
    typo = {**scaled, "spec": {**scaled["spec"], "maxReplicas": 3}}  # the schema catches unknown keys
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, schema, cls=jsonschema.Draft202012Validator)


def test_kubernetes_manifests_agree_with_each_other_and_the_code() -> None:
    found = {(d["kind"], d["metadata"]["name"]): d for _, d in manifests()}
    config = found[("ConfigMap", "khabar-worker")]["data"]
    assert set(config) <= settings_variables(), set(config) - settings_variables()
    stateful = found[("StatefulSet", "khabar-worker")]
    pod = stateful["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["khabar", "worker"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["ports"][0]["containerPort"] == int(config["KHABAR_WEB_PORT"])
    assert {e["name"] for e in container["env"]} == {"KHABAR_GROUP_INSTANCE_ID"}
    assert container["volumeMounts"][0]["mountPath"] == config["KHABAR_DATA_DIR"]
    assert stateful["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "state"
    labels = stateful["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        spec = found[(kind, "khabar-worker")]["spec"]
        selector = spec["selector"].get("matchLabels", spec["selector"])
        assert selector.items() <= labels.items(), kind
    scaled = found[("ScaledObject", "khabar-worker")]["spec"]
    assert scaled["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "khabar-worker",
    }
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == config["KHABAR_APP_ID"]
    assert trigger["metadata"]["topic"] == config["KHABAR_TOPIC_PREFIX"] + "raw-pages"
    assert trigger["metadata"]["bootstrapServers"] == config["KHABAR_BROKER"]
    assert scaled["maxReplicaCount"] <= int(config["KHABAR_PARTITIONS"]), "workers beyond partitions idle"


def test_settings_fields_are_all_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    for variable in settings_variables():
        assert f"`{variable}`" in readme, f"{variable} is missing from the README's configuration table"
    assert {f.name for f in dataclasses.fields(Settings)}  # Settings stays a dataclass


def test_readme_lists_every_dashboard_panel_and_every_metric() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    dashboard = json.loads((REPO / "deploy" / "grafana" / "dashboards" / "khabar.json").read_text("utf-8"))
    for panel in dashboard["panels"]:
        assert f"| {panel['title']} |" in readme, f"panel {panel['title']!r} is missing from the README"
    code = (REPO / "streams" / "metrics.py").read_text("utf-8")
    for name in re.findall(r'"(khabar_[a-z_]+)"', code):
        assert f"`{name}" in readme, f"metric {name} is missing from the README's metrics table"

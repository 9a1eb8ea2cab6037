"""The stand beyond one host, as shipped in deploy/: the kustomize base renders (``kubectl
kustomize``) into objects that validate against Kubernetes' schemas (kubernetes-validate, strict),
and both it and the Compose file wire the replicas as the mocks need: a shared store per service,
one control token from a secret, readiness on the health route, every variable one the mocks read."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from gosstand.mocks.accounts.client_keys import account_keys, key_files
from gosstand.mocks.core.keys import CERT_FILE, GOST_CERT_FILE, KEY_FILE
from gosstand.stand.accounts import ACCOUNTS

from gosstand.cli import build_parser
from gosstand.cli import main as gosstand

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
MOCKS = ("esia", "utko", "fts")


def _documented_variables() -> set[str]:
    """The variables README's table of the images' environment lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("### The images' environment"):text.index("### The conformance suite against")]
    return set(re.findall(r"`(GOSSTAND_[A-Z_]+)`", table))


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (Debian: kubernetes-client)")
    completed = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return [doc for doc in yaml.safe_load_all(completed.stdout) if doc]


def _objects(rendered: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in rendered if doc["kind"] == kind}


def test_the_base_validates_against_the_kubernetes_schemas(rendered: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    for doc in rendered:
        kubernetes_validate.validate(doc, "1.30.0", strict=True)
    broken = {**_objects(rendered, "Service")["esia"], "spec": {"ports": [{"port": "eight thousand"}]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30.0", strict=True)


def test_each_service_runs_replicas_behind_a_service_with_the_token_from_a_secret(
        rendered: list[dict[str, Any]]) -> None:
    deployments, services = _objects(rendered, "Deployment"), _objects(rendered, "Service")
    secrets = _objects(rendered, "Secret")
    assert set(deployments) == {*MOCKS, "redis", "locust", "locust-worker"}
    assert set(services) == {*MOCKS, "redis", "locust"}
    assert set(_objects(rendered, "Job")) == {"gosstand-accounts"}
    stores = set()
    for name in MOCKS:
        spec = deployments[name]["spec"]
        assert spec["replicas"] >= 2
        container = spec["template"]["spec"]["containers"][0]
        env = {item["name"]: item for item in container["env"]}
        assert env["GOSSTAND_SERVICE"]["value"] == name
        assert env["GOSSTAND_REPLICA"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"  # unique per pod
        token = env["GOSSTAND_CONTROL_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert token["name"] in secrets and token["key"] in secrets[token["name"]]["data"]
        stores.add(env["GOSSTAND_STORE"]["value"])
        assert env["GOSSTAND_STORE"]["value"].startswith("redis://redis:6379/")
        assert container["readinessProbe"]["httpGet"] == {"path": "/_gosstand/health", "port": "http"}
        assert set(env) <= _documented_variables(), set(env) - _documented_variables()
        port = services[name]["spec"]["ports"][0]
        assert port["targetPort"] == "http" and services[name]["spec"]["selector"] == spec["selector"]["matchLabels"]
        assert spec["template"]["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert len(stores) == len(MOCKS)  # a Redis database per service, as the container stack keeps them


def test_locust_runs_the_load_image_and_the_mocks_the_image_without_it(rendered: list[dict[str, Any]]) -> None:
    """The mocks' image holds gosstand's base install only (no Locust); the Locust pod runs the
    image built with the [load] extra."""
    deployments = _objects(rendered, "Deployment")
    images = {name: {c["image"] for c in d["spec"]["template"]["spec"]["containers"]}
              for name, d in deployments.items()}
    assert images["locust"] == images["locust-worker"] == {"gosstand-load:registry"}
    assert all(images[name] == {"gosstand-mocks:registry"} for name in MOCKS)


def test_the_compose_file_gives_every_replica_its_name_its_store_and_a_balancer(tmp_path: Path) -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    balancer = (COMPOSE.parent / "haproxy.cfg").read_text(encoding="utf-8")
    mocks = {name: service for name, service in compose["services"].items() if name.split("-")[0] in MOCKS}
    assert sorted(mocks) == sorted(f"{service}-{index}" for service in MOCKS for index in (1, 2))
    for name, service in mocks.items():
        env = service["environment"]
        assert env["GOSSTAND_REPLICA"] == name and env["GOSSTAND_SERVICE"] == name.split("-")[0]
        assert env["GOSSTAND_STORE"] == f"redis://redis:6379/{MOCKS.index(name.split('-')[0])}"
        assert f"server {name} {name}:8000 check" in balancer
        assert set(env) <= _documented_variables(), set(env) - _documented_variables()
    if shutil.which("docker-compose") is not None:
        checked = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True,
                                 text=True, timeout=120, env={**os.environ, "GOSSTAND_CONTROL_TOKEN": "t"})
        assert checked.returncode == 0, checked.stderr
        refused = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True,
                                 text=True, timeout=120,
                                 env={k: v for k, v in os.environ.items() if k != "GOSSTAND_CONTROL_TOKEN"})
        assert refused.returncode != 0 and "GOSSTAND_CONTROL_TOKEN" in refused.stderr


def test_gosstand_keys_makes_the_files_every_replica_reads(tmp_path: Path) -> None:
    assert gosstand(["keys", str(tmp_path / "keys")]) in (0, 1)  # 1: no gost engine here, said so
    made = {path.name for path in (tmp_path / "keys").iterdir()}
    assert {KEY_FILE, CERT_FILE} <= made
    if GOST_CERT_FILE not in made:
        pytest.skip("no gost engine: the GOST pair was not made")
    # the personal accounts' pairs, flat beside ESIA's so that a Secret made from the folder has them;
    # a replica given a copy signs with them instead of making its own
    copy = tmp_path / "pod"
    copy.mkdir()
    for system in ACCOUNTS.values():
        names = key_files(system.client_id)
        assert set(names) <= made
        for name in names:
            (copy / name).write_bytes((tmp_path / "keys" / name).read_bytes())
        assert account_keys(copy, system.client_id).certificate_pem == (copy / names[1]).read_text()
        assert sorted(path.name for path in copy.iterdir() if not path.name.startswith(".")) == sorted(names)
        for name in names:
            (copy / name).unlink()


def _accounts_arguments(command: list[str]) -> dict[str, Any]:
    """The arguments of a ``gosstand accounts`` command line, as gosstand's own parser reads them."""
    assert command[:2] == ["gosstand", "accounts"], command
    parsed = build_parser().parse_args(command[1:])
    return {"esia_url": parsed.esia_url, "keys_dir": parsed.keys_dir,
            "accounts": dict(value.split("=", 1) for value in parsed.account)}


def test_the_kubernetes_job_registers_the_accounts_the_replicas_sign_with(rendered: list[dict[str, Any]]) -> None:
    deployments, services = _objects(rendered, "Deployment"), _objects(rendered, "Service")
    job = _objects(rendered, "Job")["gosstand-accounts"]["spec"]["template"]["spec"]
    container = job["containers"][0]
    arguments = _accounts_arguments(container["command"])
    assert arguments["esia_url"] == f"http://esia:{services['esia']['spec']['ports'][0]['port']}"
    for service in ACCOUNTS:  # ESIA accepts the callbacks the replicas send it
        env = {item["name"]: item for item in deployments[service]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert arguments["accounts"][service] == env["GOSSTAND_PUBLIC_URL"]["value"]
    token = {item["name"]: item for item in container["env"]}["GOSSTAND_CONTROL_TOKEN"]["valueFrom"]["secretKeyRef"]
    replica_token = {item["name"]: item for item in deployments["fts"]["spec"]["template"]["spec"]["containers"][0]
                     ["env"]}["GOSSTAND_CONTROL_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token == replica_token
    # the keys directory is a writable copy of the same Secret the FTS and UTKO pods copy theirs from
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in job["volumes"]}
    assert "emptyDir" in volumes[mounts[arguments["keys_dir"]]]
    copied_from = {volume["secret"]["secretName"] for volume in volumes.values() if "secret" in volume}
    for service in ACCOUNTS:
        pod = deployments[service]["spec"]["template"]["spec"]
        assert copied_from == {volume["secret"]["secretName"] for volume in pod["volumes"] if "secret" in volume}
        copies = [init["command"] for init in pod["initContainers"]]
        assert [init["command"] for init in job["initContainers"]] == copies


def test_the_compose_accounts_container_registers_them_at_the_published_urls() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    accounts = compose["services"]["accounts"]
    arguments = _accounts_arguments(accounts["command"])
    assert arguments["esia_url"] == "http://haproxy:8000" and accounts["environment"]["GOSSTAND_ESIA_KEYS"] in {
        volume.split(":")[1] for volume in accounts["volumes"] if volume.startswith("esia-keys:")}
    for service in ACCOUNTS:
        assert arguments["accounts"][service] == compose["services"][f"{service}-1"]["environment"][
            "GOSSTAND_PUBLIC_URL"]


def _exported_names(tmp_path: Path) -> set[str]:
    """Every sample name a replica and a load run export, as prometheus_client writes them."""
    from gosstand.loadtests.run_metrics import LoadTally, RunCollector
    from gosstand.mocks.core.metrics import ReplicaMetrics
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    replica = ReplicaMetrics(service="fts", replica="fts-1", directory=None)
    replica.observe("GET", "/x", "2xx", 0.001)
    replica.fault_hit("1", "error")
    tally = LoadTally()
    tally.on_request(name="fts: status", response_time=3.0)
    (tmp_path / "failovers.jsonl").write_text('{"action": "kill", "service": "fts", "took_effect": true}\n')
    registry = CollectorRegistry()
    registry.register(RunCollector(run_dir=tmp_path, own=tally, meter=None))
    text = replica.exposition(({"error": 1}, True)).decode() + generate_latest(registry).decode()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


def test_the_grafana_dashboard_asks_only_for_series_that_exist(tmp_path: Path) -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "gosstand.json").read_text(encoding="utf-8"))
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    queries += [annotation["expr"] for annotation in dashboard["annotations"]["list"]]
    asked = {name for query in queries for name in re.findall(r"\b(gosstand_[a-z_]+)", query)}
    exported = _exported_names(tmp_path)
    assert asked and asked <= exported, asked - exported
    assert {"gosstand_http_request_duration_seconds_bucket", "gosstand_load_requests_total",
            "gosstand_load_failovers_total"} <= asked


def _locust_options(deployment: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The Locust options a pod's command gives, parsed by Locust's own parser (in a process of its
    own: importing Locust patches the interpreter with gevent), and the pod's environment."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    shell = container["command"][-1]
    assert shell.startswith("exec locust -f "), shell
    arguments = re.sub(r'^exec locust -f "\$\(.*?\)"', "", shell, flags=re.S).split()
    script = ("import json, sys; from locust.argument_parser import get_parser; "
              "o = get_parser().parse_args(sys.argv[1:]); print(json.dumps(vars(o), default=str))")
    parsed = subprocess.run([sys.executable, "-c", script, "-f", "locustfile.py", *arguments],
                            capture_output=True, text=True, timeout=60, check=True)
    env = {item["name"]: item.get("value", "") for item in container.get("env", [])}
    return json.loads(parsed.stdout.strip().splitlines()[-1]), env


def test_locust_workers_join_the_master_through_its_service(rendered: list[dict[str, Any]]) -> None:
    """The master waits for as many workers as the worker Deployment runs; they reach it by the
    Service's name on the port the master binds, and ask it for the run (GOSSTAND_REMOTE_WORKER)."""
    deployments, services = _objects(rendered, "Deployment"), _objects(rendered, "Service")
    master, master_env = _locust_options(deployments["locust"])
    worker, worker_env = _locust_options(deployments["locust-worker"])
    assert master["master"] and not master["worker"] and worker["worker"] and not worker["master"]
    assert master["expect_workers"] == deployments["locust-worker"]["spec"]["replicas"]
    assert worker_env.get("GOSSTAND_REMOTE_WORKER") == "1" and "GOSSTAND_RUN_DIR" in master_env
    service = services[worker["master_host"]]
    (container,) = deployments["locust"]["spec"]["template"]["spec"]["containers"]
    named = {port["name"]: port["containerPort"] for port in container["ports"]}
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == worker["master_port"]]
    assert named[port["targetPort"]] == master["master_bind_port"]
    assert service["spec"]["selector"] == deployments["locust"]["spec"]["selector"]["matchLabels"]

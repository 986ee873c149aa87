#!/usr/bin/env python3
"""Checks compose.yaml beyond the Compose Specification's schema (which the test command
checks first): that it runs what this repository holds. Every bind-mounted path exists,
each Banter node has the settings `banter serve` needs and a port of its own, HAProxy
gets every variable its configuration reads and points at those ports, and every image
names an exact version. Needs ruamel.yaml (installed with check-jsonschema).

No Docker engine runs here: this is as far as the file can be checked without one."""

import re
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ["DATABASE_URL", "OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_CLIENT_ID", "ROOT_KEY_ENCRYPTION_KEY", "PORT", "NODE_ID"]


def main() -> int:
    compose = YAML(typ="safe").load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    problems = []
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(".") and not (ROOT / source).exists():
                problems.append(f"{name}: {source} does not exist")
        image = service.get("image", "")
        if "build" not in service and not re.search(r":\d+(\.\d+)+[^:]*$", image):
            problems.append(f"{name}: image {image!r} names no exact version")
    nodes = {n: s for n, s in services.items() if s.get("build") or s.get("image", "").startswith("banter")}
    if len(nodes) != 2:
        problems.append(f"expected two Banter nodes, found {sorted(nodes)}")
    ports, ids = set(), set()
    for name, node in nodes.items():
        env = node.get("environment", {})
        missing = [k for k in NEEDED if not env.get(k)]
        if missing:
            problems.append(f"{name}: missing {missing}")
        if len(env.get("ROOT_KEY_ENCRYPTION_KEY", "")) < 32:
            problems.append(f"{name}: ROOT_KEY_ENCRYPTION_KEY shorter than 32 characters")
        ports.add(env.get("PORT"))
        ids.add(env.get("NODE_ID"))
    if len(ports) != len(nodes) or len(ids) != len(nodes):
        problems.append(f"nodes share a port or a NODE_ID: {ports} {ids}")
    haproxy = services.get("haproxy", {})
    config = (ROOT / "dev/haproxy/haproxy.cfg").read_text()
    env = haproxy.get("environment", {})
    for variable in sorted(set(re.findall(r"\$\{(\w+)\}", config))):
        if variable not in env:
            problems.append(f"haproxy: {variable} (read by haproxy.cfg) is not set")
    backends = {env.get("NODE_A", "").rsplit(":", 1)[-1], env.get("NODE_B", "").rsplit(":", 1)[-1]}
    if backends != ports:
        problems.append(f"haproxy sends to ports {sorted(backends)}, the nodes listen on {sorted(ports)}")
    for problem in problems:
        print(f"compose.yaml: {problem}")
    if not problems:
        print(f"compose.yaml: {len(services)} services, two nodes on ports {sorted(ports)} behind HAProxy")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

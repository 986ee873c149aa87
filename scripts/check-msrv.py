#!/usr/bin/env python3
"""Fails when the workspace's `rust-version` is lower than what a locked dependency
declares it needs: the claim in Cargo.toml must hold for the lock file as it is.
(Clippy's `incompatible_msrv` lint, run by the test command, checks Banter's own use of
the standard library against the same version.)"""

import json
import subprocess
import sys


def version(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main() -> int:
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = set(metadata["workspace_members"])
    ours = {p["name"]: p.get("rust_version") for p in metadata["packages"] if p["id"] in members}
    resolved = {node["id"] for node in metadata["resolve"]["nodes"]}
    needed = [
        (version(p["rust_version"]), p["name"], p["version"])
        for p in metadata["packages"]
        if p["id"] in resolved and p["id"] not in members and p.get("rust_version")
    ]
    highest = max(needed)
    failed = False
    for name, declared in sorted(ours.items()):
        if declared is None:
            print(f"{name}: no rust-version in its Cargo.toml")
            failed = True
        elif version(declared) < highest[0]:
            print(f"{name}: rust-version {declared}, but {highest[1]} {highest[2]} needs {'.'.join(map(str, highest[0]))}")
            failed = True
    if not failed:
        print(f"rust-version holds: the most any locked dependency needs is {'.'.join(map(str, highest[0]))} ({highest[1]} {highest[2]})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Studies on a Ray cluster (`--cluster ray`, or RAY_ADDRESS set): joining it, what it has, and what each
member asks of it. Ray is an optional extra (pip install -e '.[ray]'); nothing here imports it before a
command asks for a cluster, and every way joining can fail is one line and exit 2, before any folder exists.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any

from dltool.errors import UsageError

ADDRESS_VARIABLE = "RAY_ADDRESS"
REACH_TIMEOUT_S = 10  # a head node that does not accept a connection in this time is taken for unreachable
JOIN_TIMEOUT_S = 15  # then Ray's own handshake; both within the 30 s a user waits for an answer
INSTALL_HINT = "install it with: pip install -e '.[ray]' (or pip install 'ray[default]')"


@dataclass(frozen=True)
class Cluster:
    """The cluster a study runs on, as it was when the command joined it."""

    address: str  # the head node's host:port, or "local" (a Ray runtime started for this command)
    nodes: tuple[dict[str, Any], ...]  # {"id", "ip", "cpus", "gpus"} of each live node

    @property
    def cpus(self) -> int:
        return int(sum(node["cpus"] for node in self.nodes))

    @property
    def gpus(self) -> int:
        return int(sum(node["gpus"] for node in self.nodes))

    def slots(self) -> int:
        """Members that run at once: one per CPU of the cluster (members of one thread, the default)."""
        return max(1, self.cpus)

    def describe(self) -> dict[str, Any]:
        """What study.json records of it."""
        nodes = list(self.nodes)
        return {"engine": "ray", "address": self.address, "cpus": self.cpus, "gpus": self.gpus, "nodes": nodes}


def wanted(cluster: str | None, address: str | None) -> str | None:
    """The cluster address a command runs its members on, None for this machine: --cluster ray with
    --cluster-address or RAY_ADDRESS (or, with neither, a local Ray runtime: "local"); RAY_ADDRESS alone
    means ray too; --cluster local wins over it."""
    if cluster == "local":
        return None
    address = address or os.environ.get(ADDRESS_VARIABLE) or None
    if cluster == "ray" or address is not None:
        return address or "local"
    return None


def join(address: str) -> Cluster:
    """Join the Ray cluster at `address` ("local": start one on this machine) and describe it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--cluster ray needs Ray, which is not installed; {INSTALL_HINT}") from None
    if address == "local":  # log_to_driver off: the members are quiet, their results come back with their tasks
        ray.init(address="local", log_to_driver=False, logging_level="ERROR")
        return Cluster(address, live_nodes(ray.nodes()))
    check_reachable(address)
    join_remote(ray, address)
    shorten_cluster_messages()
    return Cluster(address, live_nodes(ray.nodes()))


def shorten_cluster_messages() -> None:
    """Ray prints the cluster's errors on the driver's stdout, among the study's output: a lost node comes with
    its raylet's last 20 log lines and a state dump. Each is one warning line on stderr instead, its first two
    sentences ("Task run_on_node failed. There are 3 retries remaining, ..."). Left as Ray has it where its
    internals differ from those of the versions this was written for."""
    from ray._private import worker

    printing = getattr(worker, "print_to_stdstream", None)
    if printing is None or getattr(printing, "shortened", False):
        return

    def shortened(data: dict, ignore_prefix: bool) -> None:
        if data.get("pid") != "raylet":
            return printing(data, ignore_prefix)
        for message in data.get("lines", []):
            first = str(message).strip().splitlines()[0] if str(message).strip() else ""
            print(f"warning: ray: {'. '.join(first.split('. ')[:2])}", file=sys.stderr)

    shortened.shortened = True
    worker.print_to_stdstream = shortened


def join_remote(ray, address: str) -> None:
    """ray.init(address) or a UsageError within JOIN_TIMEOUT_S."""
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        except Exception as exc:  # ConnectionError, an authentication error, a version mismatch: Ray's own words
            outcome["error"] = exc

    # in a thread: Ray waits for ever on a port that accepts and never answers; Ray's C++ client logs each of
    # its retries to file descriptor 2, which stays closed to it after a timeout (this process ends then)
    saved = os.dup(2)
    with open(os.devnull, "w") as void:
        sys.stderr.flush()
        os.dup2(void.fileno(), 2)
    joining = threading.Thread(target=attempt, name="ray-join", daemon=True)
    joining.start()
    joining.join(JOIN_TIMEOUT_S)
    if joining.is_alive():
        sys.stderr = os.fdopen(saved, "w")  # this process's own words still reach the terminal
        raise UsageError(
            f"cannot join the Ray cluster at {address}: no answer as a Ray head node within {JOIN_TIMEOUT_S} s"
        )
    os.dup2(saved, 2)
    os.close(saved)
    if "error" in outcome:
        raise UsageError(f"cannot join the Ray cluster at {address}: {why_not_joined(outcome['error'])}")


def why_not_joined(exc: Exception) -> str:
    causes = f"{exc} {exc.__cause__ or ''}"
    if "Authentication" in causes or "AuthToken" in causes:
        return (
            "the cluster asks for its token: set RAY_AUTH_MODE=token here and copy ~/.ray/auth_token from the "
            "head node (README: studies on a cluster)"
        )
    return first_line(exc) + " (is it a Ray head node of this Ray version?)"


def live_nodes(nodes: list[dict]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "id": node["NodeID"],
            "ip": node["NodeManagerAddress"],
            "cpus": node["Resources"].get("CPU", 0),
            "gpus": node["Resources"].get("GPU", 0),
        }
        for node in nodes
        if node.get("Alive")
    )


def check_reachable(address: str) -> None:
    """A plain TCP connection to the head node first: Ray itself retries an unreachable address for minutes."""
    if address.startswith("ray://"):
        raise UsageError(
            f"--cluster-address {address}: Ray Client addresses are not supported; run the command on a node of "
            "the cluster (the head, usually) with the head's HOST:PORT"
        )
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--cluster-address {address}: expected HOST:PORT of the head node, e.g. 10.0.0.5:6379")
    try:
        with socket.create_connection((host, int(port)), timeout=REACH_TIMEOUT_S):
            pass
    except OSError as exc:
        raise UsageError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start its head node with "
            f"'ray start --head --port {port}', or check the address"
        ) from None


def needs(config) -> dict[str, float]:
    """The Ray resources a member asks for: its torch threads in CPUs, a GPU where its device is cuda.
    (Under device auto a member takes no GPU: Ray hides the GPUs from a task that did not ask for one.)"""
    threads = config.threads if isinstance(config.threads, int) else 1
    return {"num_cpus": threads, "num_gpus": 1 if config.device.startswith("cuda") else 0}


def check_members(cluster: Cluster | None, members: list[tuple[str, Any]]) -> None:
    """Refuse at the start a member no node of the cluster can run: (label, config) each."""
    if cluster is None:
        return
    for label, config in members:
        asked = needs(config)
        if asked["num_gpus"] and not any(node["gpus"] >= asked["num_gpus"] for node in cluster.nodes):
            raise UsageError(
                f"member '{label}' needs a GPU (device: {config.device}) and no node of the Ray cluster at "
                f"{cluster.address} has one; add a GPU node, or --set device=cpu"
            )
        if not any(node["cpus"] >= asked["num_cpus"] for node in cluster.nodes):
            most = max((node["cpus"] for node in cluster.nodes), default=0)
            raise UsageError(
                f"member '{label}' needs {asked['num_cpus']} CPUs (threads: {config.threads}) and the largest node "
                f"of the Ray cluster at {cluster.address} has {most:g}; give --threads {max(1, int(most))} or fewer"
            )


def cluster_line(described: dict[str, Any]) -> str:
    """What `dltool show` says of the cluster a study ran on (study.json's record of it)."""
    address = described.get("address")
    where = "a Ray runtime on this machine" if address == "local" else f"the Ray cluster at {address}"
    nodes = len(described.get("nodes", []))
    return f"ran on: {where}, {nodes} node(s), {described.get('cpus')} CPUs, {described.get('gpus')} GPUs"


def first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

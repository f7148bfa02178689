"""Studies on Ray (Cluster): a local Ray runtime runs a sweep, a comparison and a tuning study whose results equal
this machine's process path; a two-node cluster on this machine (`ray start --head --num-cpus 1` plus a second
`ray start --address`) runs a comparison on both nodes (recorded in each member's env.json), and completes one
whose extra node is killed mid-study with every member once; a killed driver's study is continued by the same
command. Bad input: an unreachable address and a cluster without a GPU are one line and exit 2, no folder."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import CONFIGS, run_folders

pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]'; CI installs it)")
pytestmark = pytest.mark.slow

CONFIG = str(CONFIGS / "linreg_airfoil_torch.yaml")
COMPARE = ["compare-optimizers", "--optimizers", "sgd,adam", "--impl", "torch", "--seeds", "2", "--engine", "process"]


def dltool(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "dltool", *args], capture_output=True, text=True, env=environment, timeout=timeout
    )


def results(runs: Path) -> dict[str, str]:
    """Each member's final loss by its group and seed, from the study's results.csv."""
    (study,) = [p for p in runs.iterdir() if (p / "study.json").is_file()]
    with open(study / "results.csv") as table:
        return {f"{row['group']} {row['seed']}": row["final_loss"] for row in csv.DictReader(table)}


def study_record(runs: Path) -> dict:
    (study,) = [p for p in runs.iterdir() if (p / "study.json").is_file()]
    return json.loads((study / "study.json").read_text())


def member_nodes(runs: Path) -> list[str]:
    return [json.loads((run / "env.json").read_text())["cluster"]["node"] for run in members_of(runs)]


def members_of(runs: Path) -> list[Path]:
    return [p for p in run_folders(runs) if p.parent.name == "members"]


def test_a_local_ray_runtime_equals_the_process_path(tmp_path):
    """The same sweep and comparison on this machine's processes and as tasks of a local Ray runtime."""
    sweep = ["sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03", "--seeds", "2", "--set", "train.epochs=3"]
    for name, command in (("sweep", sweep), ("compare", [*COMPARE, "--set", "train.epochs=3"])):
        here = dltool(*command, "--jobs", "2", "--runs-dir", str(tmp_path / f"{name}-here"))
        # --jobs 2 on both: the members gathered into the same populations, whatever the cores of the machine
        ray = dltool(*command, "--jobs", "2", "--cluster", "ray", "--runs-dir", str(tmp_path / f"{name}-ray"))
        assert here.returncode == ray.returncode == 0, here.stderr + ray.stderr
        assert results(tmp_path / f"{name}-ray") == results(tmp_path / f"{name}-here")
        assert len(results(tmp_path / f"{name}-ray")) == 4
        assert study_record(tmp_path / f"{name}-ray")["cluster"]["address"] == "local"
        assert study_record(tmp_path / f"{name}-here").get("cluster") is None
        assert len(member_nodes(tmp_path / f"{name}-ray")) == 4  # each member's env.json names its node


def test_tuning_on_ray_counts_its_trials_exactly_and_reports_to_the_pruner(tmp_path):
    """Trials asked by the driver, trained as tasks; each epoch's report reaches the study through the relay."""
    import optuna

    runs = tmp_path / "runs"
    space = ("--space", "optimizer.lr=loguniform(0.001,0.1)")
    result = dltool("tune", CONFIG, *space, "--trials", "5", "--set", "train.epochs=3", "--cluster", "ray",
                    "--runs-dir", str(runs))  # fmt: skip
    assert result.returncode == 0, result.stderr
    (study,) = [p for p in runs.iterdir() if (p / "optuna.db").is_file()]
    trials = optuna.load_study(study_name=None, storage=f"sqlite:///{study / 'optuna.db'}").trials
    assert len(trials) == 5 and all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    assert all(t.intermediate_values for t in trials)  # the pruner saw the trials' evaluations
    assert len(members_of(runs)) == 5


def test_an_unreachable_cluster_is_one_line_before_any_folder(tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    silent = socket.socket()  # accepts and never speaks Ray
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    threading.Thread(target=lambda: [silent.accept() for _ in iter(int, 1)], daemon=True).start()
    for address in (f"127.0.0.1:{port}", f"127.0.0.1:{silent.getsockname()[1]}"):
        started = time.monotonic()
        result = dltool("sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03", "--cluster-address", address,
                        "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
        assert time.monotonic() - started < 30
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: cannot ") and address in line
        assert not (tmp_path / "runs").exists()
    silent.close()
    client = dltool("sweep", CONFIG, "--grid", "optimizer.lr=0.01", "--cluster-address", "ray://10.0.0.5:10001")
    assert client.returncode == 2 and "Ray Client addresses are not supported" in client.stderr


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    """A head node and a second node of one CPU each on this machine, with token authentication (Ray's default
    for `ray start`): the commands join it by its address. Stopped at the end."""
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token"}
    env.pop("RAY_ADDRESS", None)
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    start = [sys.executable, "-m", "ray.scripts.scripts", "start"]
    subprocess.run([*start, "--head", "--port", str(port), "--include-dashboard=false", *common], env=env,
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    subprocess.run([*start, "--address", f"127.0.0.1:{port}", *common], env=env, check=True, capture_output=True,
                   timeout=120)  # fmt: skip
    yield {"address": f"127.0.0.1:{port}", "env": {"RAY_AUTH_MODE": "token"}, "start": [*start, *common], "os": env}
    subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "stop", "--force"], env=env, capture_output=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_comparison_runs_on_both_nodes(two_nodes, tmp_path):
    runs = tmp_path / "runs"
    result = dltool(*COMPARE, "--set", "train.epochs=30", "--cluster-address", two_nodes["address"],
                    "--runs-dir", str(runs), env=two_nodes["env"])  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = study_record(runs)
    assert len(record["cluster"]["nodes"]) == 2 and record["cluster"]["cpus"] == 2
    assert len(set(member_nodes(runs))) == 2  # each node ran members
    assert {member["status"] for member in record["members"]} == {"completed"}
    shown = dltool("show", record["id"], "--runs-dir", str(runs))
    assert shown.returncode == 0 and "Ray cluster" in shown.stdout


def test_a_lost_node_s_members_run_elsewhere_once(two_nodes, tmp_path):
    """A third node joins, is killed (its raylet) while it trains a member: the study completes, every member once."""
    subprocess.run([*two_nodes["start"], "--address", two_nodes["address"]], env=two_nodes["os"], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    third = newest_raylet()
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "dltool", *COMPARE, "--seeds", "3", "--set", "train.epochs=80",
               "--cluster-address", two_nodes["address"], "--runs-dir", str(runs)]  # fmt: skip
    driver = subprocess.Popen(command, env=two_nodes["os"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: any(title(child).startswith("ray::run_on_node") for child in children(third)), 120)
    os.kill(third, signal.SIGKILL)
    out, err = driver.communicate(timeout=300)
    assert driver.returncode == 0, err
    record = study_record(runs)
    assert [member["status"] for member in record["members"]] == ["completed"] * 6
    assert len(members_of(runs)) == 6  # nothing half-written from the lost node, no member twice
    assert "state-dump" not in out + err and "warning: ray: " in err  # Ray's news of it in one line each


def test_a_killed_driver_s_study_continues_with_the_same_command(two_nodes, tmp_path):
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "dltool", "sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.02,0.03,0.04",
               "--engine", "process", "--set", "train.epochs=60", "--cluster-address", two_nodes["address"],
               "--runs-dir", str(runs)]  # fmt: skip
    driver = subprocess.Popen(command, env=two_nodes["os"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: len(members_of(runs)) >= 1, 180)
    driver.kill()
    driver.wait()
    before = {run.name for run in members_of(runs)}
    again = subprocess.run(command, env=two_nodes["os"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "continued sweep" in again.stdout
    after = {run.name for run in members_of(runs)}
    assert before <= after and len(after) == 4  # the members that came back are kept, not run again
    assert {m["status"] for m in study_record(runs)["members"]} == {"completed"}


def test_a_member_that_needs_a_gpu_is_refused_at_the_start(two_nodes, tmp_path):
    result = dltool(*COMPARE, "--set", "device=cuda", "--cluster-address", two_nodes["address"],
                    "--runs-dir", str(tmp_path / "runs"), env=two_nodes["env"])  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "member 'sgd" in line and "needs a GPU" in line
    threads = dltool(*COMPARE, "--threads", "4", "--cluster-address", two_nodes["address"],
                     "--runs-dir", str(tmp_path / "runs"), env=two_nodes["env"])  # fmt: skip
    assert threads.returncode == 2 and "needs 4 CPUs" in threads.stderr and "--threads 1" in threads.stderr
    assert not (tmp_path / "runs").exists() or run_folders(tmp_path / "runs") == []


def newest_raylet() -> int:
    """The pid of the raylet started last (the node that joined last)."""
    raylets = [pid for pid in pids() if "raylet/raylet" in cmdline(pid)]
    return max(raylets, key=started_at)


def started_at(pid: int) -> int:
    """The process's start, in clock ticks since boot (/proc/PID/stat's 22nd field)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


def pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def title(pid: int) -> str:
    return cmdline(pid).strip()


def children(parent: int) -> list[int]:
    found = []
    for pid in pids():
        try:
            if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(pid)
        except (OSError, IndexError, ValueError):
            continue
    return found


def wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)

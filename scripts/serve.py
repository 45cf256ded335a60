"""Serve the lab from several Streamlit processes behind HAProxy, with session affinity.

    make serve WORKERS=4 PORT=8501
    .venv/bin/python scripts/serve.py --workers 4 --port 8501 [--address 0.0.0.0]

Starts WORKERS `streamlit run Home.py` processes on internal ports (PORT+1 ...
PORT+WORKERS, on 127.0.0.1; `--worker-ports auto` picks free ones), waits for
each to answer /_stcore/health, renders deploy/haproxy.cfg.in and runs Debian's
HAProxy in the foreground on PORT. HAProxy keeps each browser on one worker (a
cookie set on its first response), checks /_stcore/health every 2 s and leaves
websockets open for hours. A worker that dies is started again on its port.
Ctrl-C (or SIGTERM) stops HAProxy, then every worker, and waits for them.

HAProxy comes from Debian: when it is missing the script installs it with
apt-get if it runs as root, otherwise it stops and prints the command to run.
`--state-file` writes the PIDs and ports as JSON once everything answers
(the benchmarks and tests/browser/test_balancer.py read it).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "haproxy.cfg.in"
RUN_DIR = ROOT / "artifacts" / "serve"
HAPROXY_CANDIDATES = ("haproxy", "/usr/sbin/haproxy")
INSTALL_COMMAND = "sudo apt-get update && sudo apt-get install -y haproxy"
RESTART_LIMIT = 5  # restarts per worker before serve.py gives up on it


def find_haproxy() -> str | None:
    for candidate in HAPROXY_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def ensure_haproxy() -> str:
    """The HAProxy binary; installed from Debian when missing and we are root."""
    found = find_haproxy()
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing Debian's haproxy for `make serve`...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "haproxy"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        found = find_haproxy()
        if found:
            return found
    sys.exit(
        "`make serve` needs HAProxy (Debian's haproxy package) and it is not installed.\n"
        f"Install it with:   {INSTALL_COMMAND}\n"
        "then run `make serve` again."
    )


def port_is_free(port: int, address: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_ports(spec: str, port: int, workers: int) -> list[int]:
    """Ports for the workers: PORT+1.. by default, "auto" for free ones, or a list."""
    if spec == "auto":
        return [free_port() for _ in range(workers)]
    if spec:
        ports = [int(part) for part in spec.split(",")]
        if len(ports) != workers:
            sys.exit(f"--worker-ports names {len(ports)} ports for {workers} workers")
        return ports
    return [port + index for index in range(1, workers + 1)]


def render_config(bind: str, ports: list[int]) -> str:
    """deploy/haproxy.cfg.in with the listening address and one server line per worker."""
    servers = "\n".join(
        f"    server w{index} 127.0.0.1:{port} cookie w{index}"
        for index, port in enumerate(ports, start=1)
    )
    return TEMPLATE.read_text().replace("@BIND@", bind).replace("@SERVERS@", servers)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if serve.py dies without cleaning up (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _relay(name: str, stream) -> None:
    """Copy a child's output to ours, each line prefixed with the child's name."""
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"[{name}] {line}")
        sys.stdout.flush()


def streamlit_command(script: str, port: int) -> list[str]:
    """The command that serves ``script`` headless on ``127.0.0.1:port`` (one worker)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]


def start(name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    # A new session: Ctrl-C reaches serve.py only, which stops the children in order.
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    threading.Thread(target=_relay, args=(name, process.stdout), daemon=True).start()
    return process


def wait_healthy(url: str, process: subprocess.Popen | None, timeout: float) -> None:
    """Poll ``<url>/_stcore/health`` until it answers 200; fail early if ``process`` exits."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {process.returncode}")
        try:
            with opener.open(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer its health check within {timeout} s")
        time.sleep(0.3)


def stop(processes: list[subprocess.Popen], timeout: float = 15.0) -> None:
    """SIGTERM every process still running, wait, then SIGKILL what is left."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Stop(Exception):
    """Raised in the main thread by SIGINT or SIGTERM."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="Streamlit processes (default 2)")
    parser.add_argument("--port", type=int, default=8501, help="the balancer's port")
    parser.add_argument(
        "--address", default="0.0.0.0", help="the balancer's address (default: every interface)"
    )
    parser.add_argument(
        "--worker-ports", default="", help='"auto", or comma-separated (default PORT+1..)'
    )
    parser.add_argument("--script", default="Home.py", help="the app's entry point")
    parser.add_argument("--state-file", type=Path, help="write PIDs and ports here as JSON")
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    args = parser.parse_args()
    if args.workers < 1:
        sys.exit("--workers must be at least 1")

    haproxy = ensure_haproxy()
    ports = worker_ports(args.worker_ports, args.port, args.workers)
    busy = [port for port in [args.port, *ports] if not port_is_free(port)]
    if busy:
        sys.exit(f"port(s) {busy} already in use; choose another PORT (or --worker-ports auto)")

    RUN_DIR.mkdir(parents=True, exist_ok=True)
    config_path = RUN_DIR / f"haproxy-{args.port}.cfg"
    config_path.write_text(render_config(f"{args.address}:{args.port}", ports))
    check = subprocess.run(
        [haproxy, "-c", "-f", str(config_path)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        sys.exit(f"HAProxy rejected {config_path}:\n{check.stdout}{check.stderr}")

    # One cookie secret for all workers, so a browser that is moved to another worker
    # (its worker died) still passes the XSRF check there.
    env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32)}

    def on_signal(signum: int, _frame: object) -> None:
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    workers: list[subprocess.Popen] = []
    balancer: subprocess.Popen | None = None
    restarts = [0] * len(ports)
    code = 0
    try:
        for index, port in enumerate(ports, start=1):
            workers.append(start(f"w{index}", streamlit_command(args.script, port), env))
        for port, process in zip(ports, workers, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", process, args.startup_timeout)
        balancer = start("haproxy", [haproxy, "-db", "-f", str(config_path)])
        local = "127.0.0.1" if args.address in ("0.0.0.0", "::") else args.address
        wait_healthy(f"http://{local}:{args.port}", balancer, 30)
        if args.state_file:
            state = {
                "url": f"http://{local}:{args.port}",
                "balancer": {"pid": balancer.pid, "port": args.port, "config": str(config_path)},
                "workers": [
                    {"pid": process.pid, "port": port}
                    for port, process in zip(ports, workers, strict=True)
                ],
            }
            args.state_file.parent.mkdir(parents=True, exist_ok=True)
            args.state_file.write_text(json.dumps(state, indent=2))
        where = " (every interface)" if local != args.address else ""
        print(
            f"Attention Lab: http://{local}:{args.port}{where} -> {len(ports)} workers "
            f"on ports {', '.join(map(str, ports))} (Ctrl-C stops everything)",
            flush=True,
        )
        while True:
            time.sleep(1)
            if balancer.poll() is not None:
                print(f"haproxy exited with code {balancer.returncode}", file=sys.stderr)
                code = 1
                break
            for index, (port, process) in enumerate(zip(ports, workers, strict=True)):
                if process.poll() is None:
                    continue
                if restarts[index] >= RESTART_LIMIT:
                    print(f"w{index + 1} keeps exiting; not restarting it", file=sys.stderr)
                    continue
                restarts[index] += 1
                print(f"w{index + 1} exited ({process.returncode}); starting it again", flush=True)
                workers[index] = start(f"w{index + 1}", streamlit_command(args.script, port), env)
    except Stop as signal_name:
        print(f"\n{signal_name}: stopping haproxy and {len(workers)} workers...", flush=True)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"serve.py: {error}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop([balancer] if balancer else [])
        stop(workers)
        if args.state_file and args.state_file.exists():
            args.state_file.unlink()
        config_path.unlink(missing_ok=True)
        print("stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())

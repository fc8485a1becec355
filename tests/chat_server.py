"""Run the chat in a child process for end-to-end tests and benchmarks (loopback only).

    with ChatServer(index_dir) as server:
        Client(server.url).predict("APEC經濟領袖會議在哪裡舉行？", api_name="/chat")

The child runs ``python -c "from ui.app import serve; serve(...)"``, exactly what
``rag serve`` does, with any ``RAG_LLM_*`` settings removed so answers come from the
documents. Its output goes to ``log_path``; :attr:`ChatServer.log` reads it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Self

PROJECT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class ChatServer:
    """``serve(port=…, index_dir=…)`` in a child process; ``start()`` waits for HTTP 200."""

    def __init__(
        self,
        index_dir: str | Path,
        *,
        port: int | None = None,
        log_path: str | Path | None = None,
        env: dict[str, str] | None = None,
        seeds_dir: str | Path = "seeds",
    ) -> None:
        self.index_dir = Path(index_dir)
        self.seeds_dir = Path(seeds_dir)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}/"
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="rag-ui-", suffix=".log")
            os.close(handle)
            log_path = name
        self.log_path = Path(log_path)
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = float("nan")  # from spawning to the page answering 200

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout: float = 120.0) -> Self:
        code = (
            "from ui.app import serve; "
            f"serve(host={HOST!r}, port={self.port}, index_dir={str(self.index_dir)!r}, "
            f"seeds_dir={str(self.seeds_dir)!r})"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_LLM_")}
        env.update({"GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"})
        env.update(self.extra_env)
        started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the chat server exited with {self.process.returncode}:\n{self.log[-3000:]}"
                )
            if self._answers():
                self.startup_seconds = time.perf_counter() - started
                return self
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(
            f"the chat server did not answer within {timeout:.0f} s:\n{self.log[-3000:]}"
        )

    def _answers(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        try:
            with opener.open(self.url, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Terminate the child (and only it); kill it if it does not exit in 10 s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

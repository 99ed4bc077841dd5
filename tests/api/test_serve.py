"""`xiuhua serve` starts the API on a real socket, migrating an empty database first."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_on_loopback(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "XIUHUA_DATABASE_URL": f"sqlite:///{tmp_path / 'city.db'}",
           "XIUHUA_EVIDENCE_DIR": str(tmp_path / "evidence")}  # fmt: skip
    xiuhua = str(Path(sys.executable).with_name("xiuhua"))
    server = subprocess.Popen([xiuhua, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        assert docs.status_code == 200 and "openapi.json" in docs.text
        me = httpx.get(f"http://127.0.0.1:{port}/api/v1/auth/me", timeout=5)
        assert me.status_code == 401 and me.json()["code"] == "auth.missing_token"
        assert (tmp_path / "city.db").exists()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert f"http://127.0.0.1:{port}/docs" in output

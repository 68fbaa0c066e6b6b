"""A throwaway PostgreSQL server for the tests: a new cluster in a temporary folder, on loopback.

The server binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``) or
the PATH. PostgreSQL refuses to run as root, so under root the cluster belongs to an unprivileged
user (``nobody``) and its commands run through ``runuser`` (or ``su``). The cluster has a password
(scram-sha-256 on TCP) so that tests can check that it never appears in any output.

When no server binary exists the PostgreSQL tests are skipped, naming what to install, unless
``CLUSTERLAB_REQUIRE_POSTGRES=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REQUIRE_ENV = "CLUSTERLAB_REQUIRE_POSTGRES"
USER = "clusterlab"
#: A password with characters that need care in URLs and messages.
PASSWORD = "s3cr3t-Pw_for-tests"
_UNPRIVILEGED = "nobody"


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (newest Debian version first), or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    for initdb in [*candidates, *([on_path] if on_path else [])]:
        folder = Path(initdb).resolve().parent
        if (folder / "pg_ctl").exists():
            return folder
    return None


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    """``argv`` run as the cluster's owner: the current user, or ``nobody`` under root."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser"):
        return ["runuser", "-u", _UNPRIVILEGED, "--", *argv]
    return ["su", "-s", "/bin/sh", _UNPRIVILEGED, "-c", " ".join(map(_quote, argv))]


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


class Server:
    """A running throwaway cluster; :meth:`stop` stops it and deletes its folder."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="clusterlab-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam(_UNPRIVILEGED)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.root.chmod(0o700)

    def _run(self, *argv: str, timeout: float = 120) -> None:
        result = subprocess.run(
            _as_owner(list(argv)), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(argv[:2])} failed ({result.returncode}): {result.stderr.strip()}\n{log}"
            )

    def start(self) -> Server:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam(_UNPRIVILEGED)
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync",
            "--locale=C",
        )  # fmt: skip
        pwfile.unlink()
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self._wait()
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not listen on 127.0.0.1:{self.port}")

    def url(self, database: str = "postgres", *, password: bool = True) -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

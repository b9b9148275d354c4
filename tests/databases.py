"""A throwaway real PostgreSQL server for the store's tests: initdb in a temporary folder, on a free port."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from servers import free_port

REQUIRE_ENV = "DIGITLENS_REQUIRE_POSTGRES"  # set by .ci/run: a missing PostgreSQL fails the run instead of skipping


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian puts it under /usr/lib/postgresql/<version>/)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def running_postgres():
    """Yield a postgresql:// URL of a fresh server and database; stop and delete it afterwards."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL is not installed (Debian: apt-get install postgresql)"
        pytest.fail(message) if os.environ.get(REQUIRE_ENV) else pytest.skip(message)
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="digitlens-pg-"))
    if as_user:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    run = lambda *command: subprocess.run([*as_user, *command], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "digitlens", "--auth=trust", "-E", "UTF8")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "start",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=on")
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "digitlens", "digitlens")
        yield f"postgresql://digitlens@127.0.0.1:{port}/digitlens"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)

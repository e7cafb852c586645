"""A private PostgreSQL cluster that a test may crash: started, stopped and killed at will."""
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import psycopg

BIN = "/usr/lib/postgresql/15/bin"


def as_postgres(args):
    """Runs a server command as the postgres user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        args = ["sudo", "-u", "postgres"] + args
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def until_killed(errors):
    """For a worker thread's loop: the server dying under it ends the loop quietly (what it was
    doing is left undecided); any other failure is recorded in `errors`, the test's failure."""
    try:
        yield
    except psycopg.OperationalError:
        pass
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))


class Cluster:
    """A cluster on loopback in a temporary directory. Recovery after a crash replays with
    wal_consistency_checking = generic, which checks every replayed generic WAL record against
    a full page image."""

    def __init__(self, port_offset=0, standby_of=None):
        """A new cluster (initdb), or with standby_of a streaming hot standby of that running
        cluster: a base backup whose -R settings make it follow the primary from where it left."""
        self.dir = tempfile.mkdtemp(prefix="fashrec-crash-")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.data = os.path.join(self.dir, "data")
        self.port = 20000 + (os.getpid() + port_offset) % 20000
        if standby_of is None:
            as_postgres([f"{BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust"])
        else:
            as_postgres([f"{BIN}/pg_basebackup", "-D", self.data, "-R", "--checkpoint=fast", "-h", "127.0.0.1",
                         "-p", str(standby_of.port), "-U", "postgres"])

    def start(self, settings=()):
        """Starts the server; settings ("name=value", no spaces) come after the defaults and win."""
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{self.dir}' "
                "-c wal_consistency_checking=generic -c max_connections=30"
                + "".join(f" -c {s}" for s in settings))
        try:
            as_postgres([f"{BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-o", opts,
                         "start"])
        except subprocess.CalledProcessError as e:
            raise AssertionError(f"the server did not start; its log ends:\n{self.log()[-3000:]}") from e

    def stop(self, mode):
        as_postgres([f"{BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def kill9(self):
        """SIGKILL to the postmaster and every child at once: no process gets to write, flush or
        clean up anything, as when the machine's power goes (the OS page cache survives)."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        processes = [postmaster] + _children(postmaster)
        for pid in processes:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in processes):
            time.sleep(0.05)
        # Where PID 1 reaps no orphans (containers), the dead postmaster stays a zombie whose
        # PID a new postmaster would take for a live one in its lock files; after a real crash
        # the PID is gone.
        for lock in (os.path.join(self.data, "postmaster.pid"), os.path.join(self.dir, f".s.PGSQL.{self.port}.lock")):
            os.remove(lock)

    def connect(self, **kwargs):
        return psycopg.connect(self.url(), autocommit=True, **kwargs)

    def url(self, dbname="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def log(self):
        with open(os.path.join(self.dir, "log")) as f:
            return f.read()

    def remove(self):
        try:
            self.stop("fast")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _stat(pid):
    """The fields of /proc/PID/stat after the command name: state, parent, ..."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(") ", 1)[-1].split()


def _children(parent):
    children = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and int(_stat(entry)[1]) == parent:
                children.append(int(entry))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return children


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of a killed postmaster is reaped by init; until then it is a zombie.
    try:
        return _stat(pid)[0] != "Z"
    except FileNotFoundError:
        return False

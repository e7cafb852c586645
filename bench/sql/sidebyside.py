"""fashrec_ivf beside pgvector 0.8.6 (ivfflat and hnsw) in one PostgreSQL cluster, and beside the
index crate's own streaming Scan: the benchmark bar of issue 13.

    .deps/venv/bin/python bench/sql/sidebyside.py [--quick] [--only 784|64] [--port 5498]
        [--queries 1000] [--seconds 3] [--rounds 3] [--out out/sidebyside.md]

Run it as root (or as a user who may sudo) on a machine where `./fashrec.sh install` has put the
extension into the system PostgreSQL 15; the script measures whichever release build of fashrec
is installed there (it refuses the debug builds `cargo pgrx test` installs), loaded once at the
start by the backend that measures every dataset, so a reinstall during the run changes nothing.
Steps:
1. pgvector 0.8.6: built with PGXS and installed into the same PostgreSQL when it is missing,
   from ../shared/anchors/pgvector-0.8.6.tar.gz beside the checkout (about 30 s, once). The
   tarball is only compared against, never read into the project.
2. A throwaway cluster of its own (initdb as the postgres user, 127.0.0.1 only, --port, data
   under /tmp, shared_buffers big enough for every table and index), removed at the end. Both
   extensions define a type named vector, so each gets its own database: `fashrec` and
   `pgvector`.
3. Two datasets, 60,000 base rows each, queries from the test split, lists 245:
   - 784: Fashion-MNIST raw pixels (0..255 as float4);
   - 64: catalog embeddings, the extension's embed_images on the PNG of each Fashion-MNIST
     image (what `fashrec load` stores in products.image), computed in the fashrec database and
     cached in out/sidebyside/ under the hash of the installed models; their 64-d picture part
     (the rest of a photo's vector is zeros).
4. Per dataset: the same rows copied into both databases (one table per pgvector index, so the
   planner cannot pick the other), the indexes built and timed (fashrec_ivf, ivfflat, hnsw
   m 16 ef_construction 64), every relation pg_prewarm'ed. Whether the planner picks each index
   by itself is recorded per setting; the measurements run with enable_seqscan off.
5. One client (psycopg 3, prepared statements, binary vector parameters), a distinct statement
   per mode. A first pass over every query gives recall@10 against numpy's exact answer; then
   --rounds rounds of --seconds per setting, alternated fashrec, ivfflat, hnsw per setting,
   give QPS (median of the rounds, and the range), with the backend's and the client's CPU time
   per query. A prepared primary-key lookup on the fashrec table is the SQL floor.
6. The crate's streaming Scan on the same vectors, lists and queries, one thread
   (crates/ivf/examples/sidebyside_scan.rs, built --release by this script).
7. Tables printed and written as markdown (--out) with the ratios of issue 13, the CPU (and
   whether it has AVX-512), the load average and the exact command.
"""
import argparse
import contextlib
import dataclasses
import datetime
import fcntl
import gzip
import hashlib
import io
import os
import pathlib
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
PGVECTOR_TARBALL = ROOT.parent / "shared" / "anchors" / "pgvector-0.8.6.tar.gz"
PGVECTOR_VERSION = "0.8.6"
PG_CONFIG = "/usr/lib/postgresql/15/bin/pg_config"
FMNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
CACHE = ROOT / "out" / "sidebyside"
# The lock every worktree holds while installing into the shared PostgreSQL (HELPERS.md).
INSTALL_LOCK = "/tmp/fashrec-pg.lock"
K = 10

# Issue 13's bar, for the summary at the end of each dataset.
BAR = {
    "784": {"recalls": (0.95, 0.99), "ivfflat": 4.0, "hnsw": 1.2},
    "64": {"recalls": (0.98,), "ivfflat": 5.0, "hnsw": 1.5, "pk": 0.6},
}
BAR_SCAN = 0.7


def sh(cmd, **kwargs):
    """Runs a command, showing its output only when it fails."""
    cmd = [str(c) for c in cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if out.returncode != 0:
        sys.exit(f"failed: {shlex.join(cmd)}\n{out.stdout}\n{out.stderr}")
    return out.stdout


def as_root(cmd):
    return cmd if os.geteuid() == 0 else ["sudo", *cmd]


def as_postgres(cmd):
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["sudo", "-u", "postgres", *cmd] if os.geteuid() == 0 else cmd


def pg_dir(kind):
    return pathlib.Path(sh([PG_CONFIG, f"--{kind}"]).strip())


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- machine ----------------------------------------------------------------------------------

def machine():
    """CPU model, AVX-512 or not, cores, and the load average now."""
    cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    return {
        "cpu": model.group(1) if model else "unknown",
        "avx512": " avx512f" in cpuinfo,
        "cores": os.cpu_count(),
        "load": os.getloadavg(),
    }


def installed_fashrec():
    """The fashrec.so in the system PostgreSQL: its path, inode and a line saying which build it is.
    Refuses any build but this checkout's release one: `cargo pgrx test` installs unoptimised ones
    (with debug sections, which the release profile has none of), and `./fashrec.sh test` one of
    its ci profile (with debug assertions and overflow checks: slower)."""
    path = pg_dir("pkglibdir") / "fashrec.so"
    if not path.exists():
        sys.exit(f"{path} is missing: install the extension first (flock {INSTALL_LOCK} ./fashrec.sh install)")
    if ".debug_info" in sh(["readelf", "-S", "-W", path]):
        sys.exit(f"{path} carries debug information: a `cargo pgrx test` build, not a release one. "
                 f"Install a release build (flock {INSTALL_LOCK} ./fashrec.sh install) and rerun.")
    release = ROOT / "target" / "release" / "libfashrec.so"
    library = path.read_bytes()
    if not release.exists() or release.read_bytes() != library:
        sys.exit(f"{path} is not {release}: not this checkout's release build (`./fashrec.sh test` "
                 f"installs its ci build). Install one (flock {INSTALL_LOCK} ./fashrec.sh install) and rerun.")
    stat = path.stat()
    mtime = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc)
    digest = hashlib.sha256(library).hexdigest()[:12]
    return {"path": path, "inode": stat.st_ino, "id": f"sha256 {digest}, installed {mtime:%Y-%m-%d %H:%M} UTC"}


# --- pgvector ---------------------------------------------------------------------------------

def pgvector_installed():
    control = pg_dir("sharedir") / "extension" / "vector.control"
    return (control.exists() and f"default_version = '{PGVECTOR_VERSION}'" in control.read_text()
            and (pg_dir("pkglibdir") / "vector.so").exists())


def install_pgvector():
    """Builds pgvector from the anchors tarball with PGXS and installs it, once."""
    if pgvector_installed():
        return
    if not PGVECTOR_TARBALL.exists():
        sys.exit(f"pgvector {PGVECTOR_VERSION} is not installed and {PGVECTOR_TARBALL} is missing")
    log(f"building pgvector {PGVECTOR_VERSION} from {PGVECTOR_TARBALL} (about 30 s, once)")
    with tempfile.TemporaryDirectory(prefix="pgvector-build-") as tmp:
        with tarfile.open(PGVECTOR_TARBALL) as tar:
            tar.extractall(tmp, filter="data")
        src = pathlib.Path(tmp) / f"pgvector-{PGVECTOR_VERSION}"
        sh(["make", "-C", src, f"-j{os.cpu_count()}", f"PG_CONFIG={PG_CONFIG}"])
        with open(INSTALL_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            sh(as_root(["make", "-C", src, "install", f"PG_CONFIG={PG_CONFIG}"]))
    if not pgvector_installed():
        sys.exit("pgvector's make install finished but vector.control/vector.so are not where pg_config says")


# --- cluster ----------------------------------------------------------------------------------

class Cluster:
    """A throwaway cluster on 127.0.0.1:port with its data under /tmp, removed by stop()."""

    SETTINGS = {
        "listen_addresses": "127.0.0.1",
        # Every table and index of one dataset stays in memory (about 1 GB for 784-d).
        "shared_buffers": "2GB",
        "maintenance_work_mem": "1GB",
        "max_wal_size": "8GB",
        "jit": "off",
    }

    def __init__(self, port):
        self.port = port
        self.dir = pathlib.Path(f"/tmp/fashrec-sidebyside-{port}")
        self.data = self.dir / "data"
        self.bin = pg_dir("bindir")

    def url(self, db):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def start(self):
        self.stop("immediate")  # what a killed run may have left
        self.dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        sh(as_postgres([self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"]))
        options = " ".join(f"-c {k}={v}" for k, v in
                           {**self.SETTINGS, "port": self.port, "unix_socket_directories": self.dir}.items())
        sh(as_postgres([self.bin / "pg_ctl", "-D", self.data, "-l", self.dir / "server.log", "-w",
                        "-o", options, "start"]))
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            for db in ("fashrec", "pgvector"):
                conn.execute(f"CREATE DATABASE {db}")
        for db, extension in (("fashrec", "fashrec"), ("pgvector", "vector")):
            with psycopg.connect(self.url(db), autocommit=True) as conn:
                conn.execute(f"CREATE EXTENSION {extension}")
                conn.execute("CREATE EXTENSION pg_prewarm")

    def stop(self, mode="fast"):
        """Stops the server if it runs and removes its directory."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(as_postgres([self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"]),
                           capture_output=True, check=False)
        if self.dir.exists():
            shutil.rmtree(self.dir)


# --- data -------------------------------------------------------------------------------------

def fmnist_pixels(split):
    """One Fashion-MNIST idx file as uint8 rows of 784."""
    with gzip.open(FMNIST / f"{split}-images-idx3-ubyte.gz") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)


def png(pixels):
    """A 28x28 grayscale PNG, the image the catalog stores for a product."""
    out = io.BytesIO()
    Image.fromarray(pixels.reshape(28, 28)).save(out, format="PNG")
    return out.getvalue()


def catalog_embeddings(url):
    """embed_images of all 70,000 images (train, then test), cached per installed model set: their
    picture parts, the 64-d catalog embeddings of issue 13 (a photo's vector is its picture part
    scaled, then zeros where a product's words go, so the neighbours are the same)."""
    vectors = product_space_embeddings(url)
    picture = vectors[:, :64]
    if vectors.shape[1] > 64 and np.any(vectors[:, 64:]):
        sys.exit("embed_images gave vectors whose words part is not zero: the 64-d slice would not keep the order")
    return np.ascontiguousarray(picture / np.linalg.norm(picture, axis=1, keepdims=True))


def product_space_embeddings(url):
    manifest = pg_dir("sharedir") / "extension" / "fashrec_models" / "manifest.json"
    key = hashlib.sha256(manifest.read_bytes()).hexdigest()[:12] if manifest.exists() else "unknown"
    cache = CACHE / f"catalog-embeddings-{key}.npy"
    if cache.exists():
        return np.load(cache)
    pixels = np.concatenate([fmnist_pixels("train"), fmnist_pixels("t10k")])
    log(f"embedding {len(pixels)} images with embed_images (once per model set; cached in {cache})")
    vectors = []
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute(f"SET fashrec.model_threads = {os.cpu_count()}")
        for start in range(0, len(pixels), 256):
            batch = [png(p) for p in pixels[start:start + 256]]
            out = conn.execute("SELECT embed_images(%b::bytea[])", (batch,), binary=True).fetchone()[0]
            vectors.extend(out)
    vectors = np.asarray(vectors, dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


@dataclasses.dataclass
class Dataset:
    name: str
    description: str
    base: np.ndarray
    queries: np.ndarray


def datasets(args, cluster):
    if args.only in (None, "784"):
        yield Dataset("784", "Fashion-MNIST raw pixels (0..255), 784-d",
                      fmnist_pixels("train").astype(np.float32),
                      fmnist_pixels("t10k")[: args.queries].astype(np.float32))
    if args.only in (None, "64"):
        vectors = catalog_embeddings(cluster.url("fashrec"))
        yield Dataset("64", f"catalog embeddings (embed_images of the Fashion-MNIST PNGs), {vectors.shape[1]}-d",
                      vectors[:60000], vectors[60000:60000 + args.queries])


def ground_truth(base, queries):
    """Exact top 10 ids by L2, numpy brute force in float64 (exact for the 0..255 pixels)."""
    base64 = base.astype(np.float64)
    norms = (base64 * base64).sum(axis=1)
    truth = []
    for start in range(0, len(queries), 128):
        q = queries[start:start + 128].astype(np.float64)
        d = norms[None, :] - 2.0 * q @ base64.T
        top = np.argpartition(d, K, axis=1)[:, :K]
        order = np.take_along_axis(d, top, axis=1).argsort(axis=1)
        truth.extend(np.take_along_axis(top, order, axis=1).tolist())
    return truth


def recalls(found, truth):
    """recall@10 of each query."""
    return [len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]


# --- tables and indexes -----------------------------------------------------------------------

def load_table(conn, table, vectors):
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v vector({vectors.shape[1]}))")
    with conn.cursor() as cur, cur.copy(f"COPY {table} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "vector"])
        for i, v in enumerate(vectors):
            copy.write_row((i, v))
    conn.execute(f"VACUUM ANALYZE {table}")


def build_index(conn, name, sql):
    """Builds an index, returning (seconds, MiB)."""
    start = time.perf_counter()
    conn.execute(sql)
    seconds = time.perf_counter() - start
    size = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()[0]
    return seconds, size / 2**20


def prewarm(conn, table):
    """Reads the table, its TOAST table and every index of either into shared buffers."""
    conn.execute("""
        SELECT pg_prewarm(c.oid)
        FROM pg_class c
        WHERE c.oid = %(t)s::regclass
           OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = %(t)s::regclass)
           OR c.oid IN (SELECT indexrelid FROM pg_index
                        WHERE indrelid IN (%(t)s::regclass,
                                           (SELECT reltoastrelid FROM pg_class WHERE oid = %(t)s::regclass)))
        """, {"t": table}).fetchall()


# --- measuring --------------------------------------------------------------------------------

@dataclasses.dataclass
class Mode:
    """One thing measured: a statement on a connection, and the setting it is swept over."""
    name: str
    conn: psycopg.Connection
    sql: str
    index: str | None = None
    setting: str | None = None
    values: tuple = (None,)
    results: dict = dataclasses.field(default_factory=dict)

    def set(self, value):
        if self.setting:
            self.conn.execute(f"SET {self.setting} = {value}")


def knn_sql(table):
    return f"SELECT id FROM {table} ORDER BY v <-> %b LIMIT {K}"


def plan(mode, param):
    return "\n".join(r[0] for r in mode.conn.execute(f"EXPLAIN (COSTS OFF) {mode.sql}", param))


def uses_index(mode, param):
    return re.search(rf"Index (Only )?Scan using {mode.index}\b", plan(mode, param)) is not None


def force_index(modes, param):
    """Notes, per setting, whether the planner picks the index by itself; then turns sequential
    scans off on every connection, so that each statement measures its index."""
    connections = {id(m.conn): m.conn for m in modes}.values()
    for conn in connections:
        conn.execute("RESET enable_seqscan")
    for mode in modes:
        for value in mode.values:
            mode.set(value)
            mode.results[value] = {"planner_picks_index": uses_index(mode, param[mode.name])}
    for conn in connections:
        conn.execute("SET enable_seqscan = off")
    for mode in modes:
        if not uses_index(mode, param[mode.name]):
            sys.exit(f"{mode.name}: the plan does not use {mode.index} even with enable_seqscan off:\n"
                     f"{plan(mode, param[mode.name])}")


def cpu_seconds(pid):
    """User + system CPU seconds of a process (a backend), from /proc/PID/stat."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def answers(mode, params):
    """Every query once, prepared: the ids each returned."""
    with mode.conn.cursor() as cur:
        out = []
        for p in params:
            cur.execute(mode.sql, p, prepare=True)
            out.append([r[0] for r in cur.fetchall()])
        return out


def timed_round(mode, params, seconds):
    """Queries, cycling through params, for `seconds`: QPS and CPU microseconds per query."""
    pid = mode.conn.info.backend_pid
    with mode.conn.cursor() as cur:
        n, backend, client, start = 0, cpu_seconds(pid), time.thread_time(), time.perf_counter()
        while n == 0 or time.perf_counter() - start < seconds:
            cur.execute(mode.sql, params[n % len(params)], prepare=True)
            cur.fetchall()
            n += 1
        wall = time.perf_counter() - start
        return {"qps": n / wall, "backend_us": (cpu_seconds(pid) - backend) / n * 1e6,
                "client_us": (time.thread_time() - client) / n * 1e6}


def measure(modes, params, truth, args):
    """Recall from one pass per setting, then alternated timed rounds."""
    for mode in modes:
        for value in mode.values:
            mode.set(value)
            mode.results[value]["rounds"] = []
            if mode.setting:
                each = recalls(answers(mode, params[mode.name]), truth)
                # Queries that find under half their neighbours: a graph or list the scan cannot reach.
                mode.results[value].update(recall=float(np.mean(each)), poor=sum(r < 0.5 for r in each))
            else:
                answers(mode, params[mode.name])
                mode.results[value].update(recall=None, poor=None)
    for r in range(args.rounds):
        log(f"round {r + 1} of {args.rounds}")
        for i in range(max(len(m.values) for m in modes)):
            for mode in modes:
                if i < len(mode.values):
                    mode.set(mode.values[i])
                    mode.results[mode.values[i]]["rounds"].append(timed_round(mode, params[mode.name], args.seconds))


def build_scan_example():
    """Builds crates/ivf/examples/sidebyside_scan.rs (before anything is timed); returns its path."""
    sh(["cargo", "build", "--release", "-q", "-p", "fashrec-ivf", "--example", "sidebyside_scan"], cwd=ROOT)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "examples" / "sidebyside_scan"


def crate_scan(binary, data, truth, args):
    """The crate's streaming Scan on the same vectors: {probes: {recall, qps: [...]}} and build seconds."""
    with tempfile.TemporaryDirectory(prefix="sidebyside-") as tmp:
        files = {name: pathlib.Path(tmp) / name for name in ("base.f32", "queries.f32", "truth.i32")}
        data.base.astype("<f4").tofile(files["base.f32"])
        data.queries.astype("<f4").tofile(files["queries.f32"])
        np.asarray(truth, dtype="<i4").tofile(files["truth.i32"])
        out = sh([binary, "--dims", data.base.shape[1], "--base", files["base.f32"],
                  "--queries", files["queries.f32"], "--gt", files["truth.i32"], "--lists", args.lists,
                  "--probes", ",".join(map(str, args.probes)), "--seconds", args.seconds,
                  "--rounds", args.rounds])
    build = float(re.search(r"^build .* seconds=([\d.]+)", out, re.M).group(1))
    scans = {}
    for m in re.finditer(r"^scan probes=(\d+) recall=([\d.]+) qps=([\d.,]+) cpu_qps=([\d.,]+)", out, re.M):
        scans[int(m.group(1))] = {"recall": float(m.group(2)),
                                  "qps": [float(q) for q in m.group(3).split(",")],
                                  "cpu_qps": [float(q) for q in m.group(4).split(",")]}
    return scans, build


@contextlib.contextmanager
def measuring_connections(cluster, library):
    """The two connections every dataset is measured on. The fashrec backend loads the library
    once, now, and keeps it mapped even if a later install replaces the file (cargo pgrx removes
    the old file first), so the whole run measures the build `library` names."""
    with psycopg.connect(cluster.url("fashrec"), autocommit=True) as fashrec, \
            psycopg.connect(cluster.url("pgvector"), autocommit=True) as pgvector:
        fashrec.execute("LOAD 'fashrec'")
        mapped = mapped_inode(fashrec.info.backend_pid, library["path"].name)
        if mapped not in (None, library["inode"]):
            sys.exit(f"{library['path']} was replaced while the run started; rerun")
        for conn in (fashrec, pgvector):
            register_vector(conn)
        yield fashrec, pgvector


def mapped_inode(pid, name):
    """Inode of the library `name` mapped by process pid (None where /proc/PID/maps is not readable)."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/maps").read_text().splitlines():
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and pathlib.Path(fields[5]).name == name:
                return int(fields[4])
    except PermissionError:
        return None
    sys.exit(f"backend {pid} has not mapped {name} after LOAD")


def run_dataset(data, fashrec, pgvector, scan_binary, args):
    """Loads, builds, prewarms and measures one dataset in both databases, then the crate."""
    log(f"dataset {data.name}: {data.description}, {len(data.base)} rows, {len(data.queries)} queries")
    truth = ground_truth(data.base, data.queries)
    log("loading the rows into both databases")
    load_table(fashrec, "items", data.base)
    load_table(pgvector, "items_ivfflat", data.base)
    load_table(pgvector, "items_hnsw", data.base)
    log("building the indexes")
    lists = f"WITH (lists = {args.lists})"
    builds = {
        "fashrec_ivf": build_index(fashrec, "items_v",
                                   f"CREATE INDEX items_v ON items USING fashrec_ivf (v) {lists}"),
        "ivfflat": build_index(pgvector, "items_ivfflat_v",
                               f"CREATE INDEX items_ivfflat_v ON items_ivfflat USING ivfflat (v vector_l2_ops) {lists}"),
        "hnsw": build_index(pgvector, "items_hnsw_v", "CREATE INDEX items_hnsw_v ON items_hnsw "
                            "USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)"),
    }
    settings = {s: fashrec.execute(f"SHOW {s}").fetchone()[0]
                for s in ("shared_buffers", "maintenance_work_mem", "max_parallel_maintenance_workers")}
    prewarm(fashrec, "items")
    prewarm(pgvector, "items_ivfflat")
    prewarm(pgvector, "items_hnsw")

    modes = [
        Mode("fashrec_ivf", fashrec, knn_sql("items"), "items_v", "fashrec_ivf.probes", tuple(args.probes)),
        Mode("ivfflat", pgvector, knn_sql("items_ivfflat"), "items_ivfflat_v", "ivfflat.probes",
             tuple(args.probes)),
        Mode("hnsw", pgvector, knn_sql("items_hnsw"), "items_hnsw_v", "hnsw.ef_search", tuple(args.ef_search)),
        Mode("pk lookup", fashrec, "SELECT id FROM items WHERE id = %s", "items_pkey"),
    ]
    vectors = [(q,) for q in data.queries]
    params = {m.name: vectors for m in modes}
    params["pk lookup"] = [((i * 7919) % len(data.base),) for i in range(len(data.queries))]
    force_index(modes, {name: p[0] for name, p in params.items()})
    log("measuring")
    measure(modes, params, truth, args)
    log("the crate's Scan")
    scans, crate_build = crate_scan(scan_binary, data, truth, args)
    return {"data": data, "lists": args.lists, "builds": builds, "settings": settings,
            "modes": {m.name: m.results for m in modes}, "scans": scans, "crate_build": crate_build}


# --- report -----------------------------------------------------------------------------------

def qps(result):
    return statistics.median(r["qps"] for r in result["rounds"])


def qps_range(result):
    values = [r["qps"] for r in result["rounds"]]
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def fastest_at(results, least_recall):
    """(setting, result) of the fastest setting whose recall is at least least_recall."""
    ok = [(v, r) for v, r in results.items() if r["recall"] >= least_recall - 1e-9]
    return max(ok, key=lambda vr: qps(vr[1]), default=None)


def nearest_below(results, most_recall):
    """(setting, result) with the highest recall that is at most most_recall."""
    ok = [(v, r) for v, r in results.items() if r["recall"] <= most_recall + 1e-9]
    return max(ok, key=lambda vr: vr[1]["recall"], default=None)


def ratio(ours, theirs, label):
    if theirs is None:
        return "none reaches it"
    value, result = theirs
    return f"{ours / qps(result):.2f}x ({label} {value}: {result['recall']:.4f})"


def report(run):
    """Markdown for one dataset."""
    data, modes, scans = run["data"], run["modes"], run["scans"]
    f, ivf, hnsw, pk = modes["fashrec_ivf"], modes["ivfflat"], modes["hnsw"], modes["pk lookup"]
    b = run["builds"]
    settings = ", ".join(f"{k} {v}" for k, v in run["settings"].items())
    lines = [f"### {data.name}: {data.description}", "",
             f"{len(data.base)} rows, {len(data.queries)} queries (test split), lists {run['lists']}. "
             f"Settings: {settings}."]
    lines += ["", "| index | build s | size MiB |", "|---|---:|---:|"]
    lines += [f"| {name} | {s:.1f} | {mib:.0f} |" for name, (s, mib) in b.items()]
    lines += [f"| crate `build` on MemoryRelation (same lists, all threads) | {run['crate_build']:.1f} | |",
              "", f"Build fashrec_ivf / ivfflat: {b['fashrec_ivf'][0] / b['ivfflat'][0]:.2f}x the time.", ""]

    lines += ["Measured with enable_seqscan off; the last column says whether the planner picks the index "
              "without that (EXPLAIN of the mode's statement at that setting). For the crate Scan the CPU "
              "column is its thread's CPU time.", "",
              "| mode | setting | recall@10 | queries < 0.5 | QPS median (range) | backend CPU us/query "
              "| client CPU us/query | planner picks the index |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for name, results in modes.items():
        for value, r in results.items():
            backend = statistics.median(x["backend_us"] for x in r["rounds"])
            client = statistics.median(x["client_us"] for x in r["rounds"])
            rec, poor = ("", "") if r["recall"] is None else (f"{r['recall']:.4f}", r["poor"])
            picks = "yes" if r["planner_picks_index"] else "**no**: a seq scan"
            lines.append(f"| {name} | {'' if value is None else value} | {rec} | {poor} | {qps_range(r)} "
                         f"| {backend:.0f} | {client:.0f} | {picks} |")
    for p, s in scans.items():
        lines.append(f"| crate Scan (one thread) | {p} | {s['recall']:.4f} | | "
                     f"{statistics.median(s['qps']):.0f} ({min(s['qps']):.0f}-{max(s['qps']):.0f}) | "
                     f"{1e6 / statistics.median(s['cpu_qps']):.0f} | | |")

    lines += ["", "Ratios of fashrec_ivf QPS (medians). \"at >= recall\": the competitor's fastest setting whose "
              "recall@10 is at least fashrec's; \"at <= recall\": its setting with the highest recall not above "
              "fashrec's. SQL / Scan by CPU: the crate thread's CPU time per query over the backend's.",
              "", "| probes | recall@10 | QPS | / ivfflat same probes | / ivfflat at >= recall | / hnsw at >= recall "
              "| / hnsw at <= recall | / crate Scan | SQL / Scan by CPU |", "|---:|---:|---:|---|---|---|---|---|---|"]
    for p, r in f.items():
        ours = qps(r)
        same = ivf.get(p)
        same_text = f"{ours / qps(same):.2f}x ({same['recall']:.4f})" if same else ""
        scan = scans.get(p)
        scan_text = f"{ours / statistics.median(scan['qps']):.2f}x" if scan else ""
        backend_us = statistics.median(x["backend_us"] for x in r["rounds"])
        cpu_text = f"{1e6 / statistics.median(scan['cpu_qps']) / backend_us:.2f}x" if scan else ""
        lines.append(f"| {p} | {r['recall']:.4f} | {ours:.0f} | {same_text} | "
                     f"{ratio(ours, fastest_at(ivf, r['recall']), 'probes')} | "
                     f"{ratio(ours, fastest_at(hnsw, r['recall']), 'ef_search')} | "
                     f"{ratio(ours, nearest_below(hnsw, r['recall']), 'ef_search')} | {scan_text} | {cpu_text} |")
    first = min(f)
    lines += ["", f"fashrec_ivf at probes {first} / prepared primary-key lookup: "
              f"{qps(f[first]) / qps(pk[None]):.2f}x ({qps(f[first]):.0f} / {qps(pk[None]):.0f} QPS)."]
    lines += ["", *bar_lines(run)]
    return "\n".join(lines)


def verdict(got, target):
    return f"{got:.2f}x, target >= {target}x: {'met' if got >= target else 'not met'}"


def bar_lines(run):
    """Issue 13's bar for this dataset: the measured ratio beside each target. At a recall
    threshold each system runs at its fastest setting that reaches the threshold."""
    bar, modes, scans = BAR[run["data"].name], run["modes"], run["scans"]
    f, pk = modes["fashrec_ivf"], modes["pk lookup"]
    out = ["Issue 13's bar (at a recall threshold, each system at its fastest setting reaching it):", ""]
    for least in bar["recalls"]:
        ours = fastest_at(f, least)
        for name in ("ivfflat", "hnsw"):
            theirs = fastest_at(modes[name], least)
            if ours is None or theirs is None:
                missing = "fashrec_ivf" if ours is None else name
                out.append(f"- recall >= {least} vs {name}: {missing} never reaches it")
                continue
            out.append(f"- recall >= {least}, fashrec_ivf probes {ours[0]} ({ours[1]['recall']:.4f}) vs {name} "
                       f"{theirs[0]} ({theirs[1]['recall']:.4f}): "
                       f"{verdict(qps(ours[1]) / qps(theirs[1]), bar[name])}")
    if "pk" in bar:
        out.append(f"- probes {min(f)} vs primary-key lookup: {verdict(qps(f[min(f)]) / qps(pk[None]), bar['pk'])}")
    worst = min((qps(f[p]) / statistics.median(s["qps"]), p) for p, s in scans.items() if p in f)
    out.append(f"- SQL / crate Scan, lowest over the probes (probes {worst[1]}): {verdict(worst[0], BAR_SCAN)}")
    b = run["builds"]
    out.append(f"- build fashrec_ivf {b['fashrec_ivf'][0]:.1f} s vs ivfflat {b['ivfflat'][0]:.1f} s: "
               f"{'met' if b['fashrec_ivf'][0] <= b['ivfflat'][0] else 'not met'}")
    return out


def header(args, start, end, versions, seconds):
    avx = "with AVX-512" if start["avx512"] else "AVX2, no AVX-512"
    return "\n".join([
        "## Run",
        "",
        f"- Command: `{command()}`",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; took {seconds / 60:.1f} min.",
        f"- CPU: {start['cpu']}, {start['cores']} cores, {avx}. Load average (1, 5, 15 min) "
        f"{', '.join(f'{x:.2f}' for x in start['load'])} at the start, "
        f"{', '.join(f'{x:.2f}' for x in end['load'])} at the end.",
        f"- {versions}",
        f"- Client: one connection per database, used one query at a time; psycopg {psycopg.__version__}, "
        f"prepared statements, binary vector parameters; {args.rounds} rounds of {args.seconds} s per setting, "
        "alternated fashrec_ivf, ivfflat, hnsw per setting (the primary-key lookup after the first); "
        "enable_seqscan off.",
        "",
    ])


def command():
    python = pathlib.Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(ROOT)
    script = pathlib.Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(ROOT)
    return shlex.join([str(python), str(script), *sys.argv[1:]])


def versions(cluster, library):
    with psycopg.connect(cluster.url("fashrec")) as f, psycopg.connect(cluster.url("pgvector")) as p:
        pg = f.execute("SHOW server_version").fetchone()[0]
        fv = f.execute("SELECT extversion FROM pg_extension WHERE extname = 'fashrec'").fetchone()[0]
        pv = p.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
    return (f"PostgreSQL {pg}; fashrec {fv} ({library['path'].name} {library['id']}); "
            f"pgvector {pv} (PGXS build, its default flags)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 queries, 1 round of 0.5 s")
    parser.add_argument("--only", choices=("784", "64"), help="one dataset only")
    parser.add_argument("--port", type=int, default=5498, help="port of the throwaway cluster")
    parser.add_argument("--queries", type=int, default=1000, help="test-split queries (at most 10,000)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one timed round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per setting")
    parser.add_argument("--lists", type=int, default=245)
    parser.add_argument("--probes", default="1,2,4,8,16", help="fashrec_ivf.probes and ivfflat.probes")
    parser.add_argument("--ef-search", default="10,20,40,80", help="hnsw.ef_search")
    parser.add_argument("--out", default=str(ROOT / "out" / "sidebyside.md"), help="the markdown report")
    args = parser.parse_args()
    if args.quick:
        args.queries, args.seconds, args.rounds = min(args.queries, 100), 0.5, 1
    args.probes = [int(p) for p in args.probes.split(",")]
    args.ef_search = [int(e) for e in args.ef_search.split(",")]

    began, start = time.perf_counter(), machine()
    library = installed_fashrec()
    install_pgvector()
    scan_binary = build_scan_example()
    cluster = Cluster(args.port)
    try:
        log(f"starting a cluster on 127.0.0.1:{args.port} in {cluster.dir}")
        cluster.start()
        version_line = versions(cluster, library)
        runs = []
        with measuring_connections(cluster, library) as (fashrec, pgvector):
            for data in datasets(args, cluster):
                runs.append(run_dataset(data, fashrec, pgvector, scan_binary, args))
                print("\n" + report(runs[-1]) + "\n", flush=True)
    finally:
        cluster.stop()
    if not library["path"].exists() or library["path"].stat().st_ino != library["inode"]:
        version_line += (f". {library['path'].name} was reinstalled during the run; the measuring backends kept "
                         "the build they loaded at the start, the one named here")
        log(version_line)
    text = "\n\n".join([header(args, start, machine(), version_line, time.perf_counter() - began),
                        *(report(r) for r in runs)]) + "\n"
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(text)
    log(f"written to {args.out}")


if __name__ == "__main__":
    main()

"""A long embed_images batch can be cancelled: statement_timeout and a client's cancel request
stop it between images with PostgreSQL's usual errors, well before the batch would have ended,
and the same connection then answers normal queries (the models stay loaded and usable)."""
import os
import subprocess
import threading
import time

import psycopg
import pytest

PER_CLASS = 300  # 3,000 catalog images, each COPIES times in one batch
BATCH = ("SELECT count(e) FROM unnest((SELECT embed_images(array_agg(image ORDER BY id)) "
         "FROM products, generate_series(1, %s))) e")
TIMEOUT_MS = 200
# The uncancelled batch must outlast the timeout by far, or a cancel that waits for the batch's
# end would pass as well.
LONG_SECONDS = 2.0


@pytest.fixture(scope="module")
def loaded(cli, dburl):
    result = subprocess.run([cli, "load", "--url", dburl, "--balanced", str(PER_CLASS)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def long_batch(loaded, dburl):
    """(copies, seconds): a batch that takes at least LONG_SECONDS uncancelled in a warm backend,
    and how long it takes; it embeds every image."""
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute("SELECT embed_text('warm up: loads the models')")
        copies = 1
        while True:
            start = time.perf_counter()
            assert conn.execute(BATCH, (copies,)).fetchone()[0] == PER_CLASS * 10 * copies
            seconds = time.perf_counter() - start
            if seconds >= LONG_SECONDS:
                return copies, seconds
            copies *= 2


@pytest.fixture()
def warm(loaded, conn):
    """A connection whose backend has loaded the models, so only the batch is timed."""
    conn.execute("SELECT embed_text('warm up: loads the models')")
    return conn


def answers_normally(conn):
    assert conn.execute("SELECT vector_dims(embed_text('black canvas shoes')) = vector_dims(embed_image(image)) "
                        "FROM products ORDER BY id LIMIT 1").fetchone()[0]
    assert conn.execute("SELECT count(e) FROM unnest((SELECT embed_images(array_agg(image)) "
                        "FROM (SELECT image FROM products ORDER BY id LIMIT 100) t)) e").fetchone()[0] == 100


def test_statement_timeout_stops_a_long_batch(warm, long_batch):
    copies, uncancelled_seconds = long_batch
    warm.execute(f"SET statement_timeout = {TIMEOUT_MS}")
    start = time.perf_counter()
    with pytest.raises(psycopg.errors.QueryCanceled, match="canceling statement due to statement timeout"):
        warm.execute(BATCH, (copies,))
    took = time.perf_counter() - start
    # Cancelled between images: it ends near the timeout, not when the batch would have.
    assert took < uncancelled_seconds / 2, f"cancelled after {took:.2f} s; the whole batch takes {uncancelled_seconds:.2f} s"
    warm.execute("RESET statement_timeout")
    answers_normally(warm)


def test_cancel_request_stops_a_long_batch(warm, long_batch):
    copies, uncancelled_seconds = long_batch
    timer = threading.Timer(TIMEOUT_MS / 1000, warm.cancel)
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(psycopg.errors.QueryCanceled, match="canceling statement due to user request"):
            warm.execute(BATCH, (copies,))
    finally:
        timer.cancel()
    took = time.perf_counter() - start
    assert took < uncancelled_seconds / 2, f"cancelled after {took:.2f} s; the whole batch takes {uncancelled_seconds:.2f} s"
    answers_normally(warm)


# PostgreSQL's signals: SIGHUP, SIGINT (cancel), SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM (timeouts), SIGTERM.
BACKEND_SIGNALS = (1, 2, 3, 10, 12, 14, 15)


def blocked_signals(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/status") as status:
        mask = next(int(line.split()[1], 16) for line in status if line.startswith("SigBlk:"))
    return {sig for sig in BACKEND_SIGNALS if mask & (1 << (sig - 1))}


def test_only_the_backend_thread_takes_signals(loaded, dburl):
    """A cancel reaches the backend only if no other thread of the process can take the signal:
    every thread that loading and running the models started must block them all."""
    with psycopg.connect(dburl, autocommit=True) as conn:
        # Two intra-op threads, so ONNX Runtime starts a thread pool too.
        conn.execute("SET fashrec.model_threads = 2")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        if not os.path.isdir(f"/proc/{pid}"):
            pytest.skip("the server runs on another machine: its threads cannot be inspected")
        conn.execute("SELECT embed_texts(ARRAY['black canvas shoes', 'a red evening gown', 'kicks'])")
        conn.execute("SELECT embed_images(array_agg(image)) FROM (SELECT image FROM products LIMIT 100) t")
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        others = [t for t in threads if t != pid]
        assert others, "loading the models started no thread; the test checks nothing"
        for tid in others:
            assert blocked_signals(pid, tid) == set(BACKEND_SIGNALS), f"thread {tid} of backend {pid} takes signals"

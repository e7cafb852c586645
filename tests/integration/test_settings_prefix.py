"""The prefixes fashrec_ivf. and fashrec. are reserved: a misspelt setting is an ERROR instead of a
silently accepted placeholder, and the real settings still work.

PostgreSQL knows a setting only once the library that defines it is loaded in the backend; before
that any `prefix.name` is accepted as a placeholder. So each test first loads the library by
calling one of its functions, in a fresh connection."""
import psycopg
import pytest


def load_library(conn):
    conn.execute("SELECT '[1]'::vector")


@pytest.mark.parametrize("statement", ["SET fashrec_ivf.probe = 3", "SET fashrec.model_threds = 2"])
def test_misspelt_setting_is_refused(dburl, statement):
    with psycopg.connect(dburl, autocommit=True) as conn:
        load_library(conn)
        with pytest.raises(psycopg.Error) as raised:
            conn.execute(statement)
        # 42602 invalid_name: PostgreSQL's code for a name under a reserved prefix.
        assert raised.value.diag.sqlstate == "42602"
        assert "reserved prefix" in raised.value.diag.message_detail
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_misspelt_setting_is_unknown(dburl):
    with psycopg.connect(dburl, autocommit=True) as conn:
        load_library(conn)
        with pytest.raises(psycopg.errors.UndefinedObject):  # 42704
            conn.execute("SHOW fashrec_ivf.probe")


def test_real_settings_still_work(dburl):
    with psycopg.connect(dburl, autocommit=True) as conn:
        load_library(conn)
        conn.execute("SET fashrec_ivf.probes = 3")
        conn.execute("SET fashrec_ivf.max_probes = 7")
        conn.execute("SET fashrec.model_threads = 2")
        assert conn.execute("SHOW fashrec_ivf.probes").fetchone() == ("3",)
        assert conn.execute("SHOW fashrec_ivf.max_probes").fetchone() == ("7",)
        assert conn.execute("SHOW fashrec.model_threads").fetchone() == ("2",)


def test_placeholders_set_before_loading(dburl):
    with psycopg.connect(dburl, autocommit=True) as conn:
        warnings = []
        conn.add_notice_handler(lambda d: warnings.append(d.message_primary))
        # Before the library is loaded both names are only placeholders, and both are accepted.
        conn.execute("SET fashrec_ivf.probes = 5")
        conn.execute("SET fashrec_ivf.probe = 5")
        load_library(conn)
        # Loading keeps the real one's value and drops the misspelt one with a WARNING.
        assert conn.execute("SHOW fashrec_ivf.probes").fetchone() == ("5",)
        assert any("fashrec_ivf.probe" in w for w in warnings), warnings
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("SHOW fashrec_ivf.probe")

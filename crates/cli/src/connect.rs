//! Finding and connecting to the database the way libpq users expect.
//!
//! Order: `--url` (or `DATABASE_URL`); else the PG* environment variables (PGHOST, PGPORT,
//! PGUSER, PGDATABASE, PGPASSWORD) with libpq's defaults for those unset; else the
//! project-local cluster (127.0.0.1:5499, user postgres, database fashrec). Parts a URL leaves
//! out are filled from PG* variables and then libpq's defaults, as libpq itself would.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use postgres::config::Host;
use postgres::{Client, Config, NoTls};

/// The project-local cluster started by `./fashrec.sh start`.
pub const LOCAL_HOST: &str = "127.0.0.1";
/// Port of the project-local cluster.
pub const LOCAL_PORT: u16 = 5499;
/// User of the project-local cluster (trust authentication on loopback).
pub const LOCAL_USER: &str = "postgres";
/// Database of the project-local cluster.
pub const LOCAL_DBNAME: &str = "fashrec";

/// The variables that, when any is set, replace the project-local default with libpq's rules.
const LIBPQ_VARS: [&str; 4] = ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE"];

/// The connection settings for an optional URL, reading variables through `env`.
pub fn resolve(url: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
    let mut config = match url {
        Some(url) => url.parse::<Config>().with_context(|| {
            format!("--url {:?} is not a PostgreSQL connection URL (postgresql://user@host:port/dbname) \
                     nor a key=value string", redact(url))
        })?,
        None if LIBPQ_VARS.iter().all(|v| env(v).is_none()) => {
            let mut config = Config::new();
            config.host(LOCAL_HOST).port(LOCAL_PORT).user(LOCAL_USER).dbname(LOCAL_DBNAME);
            config
        }
        None => Config::new(),
    };
    fill_from_env(&mut config, env)?;
    if config.get_connect_timeout().is_none() {
        // Without it an unreachable host hangs for minutes before a useful error.
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("fashrec-cli");
    Ok(config)
}

/// Fills what the config lacks from PG* variables, then libpq's built-in defaults.
fn fill_from_env(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(hosts) => hosts.split(',').for_each(|h| {
                config.host(h.trim());
            }),
            // libpq's default: the Unix socket directory Debian uses, else TCP to localhost.
            None if Path::new("/var/run/postgresql").is_dir() => {
                config.host("/var/run/postgresql");
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty() {
        let port = match env("PGPORT") {
            Some(p) => p
                .trim()
                .parse::<u16>()
                .map_err(|_| anyhow!("PGPORT={p:?} is not a port number"))?,
            None => 5432,
        };
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .or_else(|| env("LOGNAME"))
            .unwrap_or_else(|| LOCAL_USER.to_string());
        config.user(&user);
    }
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_dbname().is_none() {
        let dbname = env("PGDATABASE").or_else(|| config.get_user().map(str::to_string));
        if let Some(dbname) = dbname {
            config.dbname(&dbname);
        }
    }
    Ok(())
}

/// A URL with any password replaced by "***", for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Where a config points, in words (no password).
pub fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "{} port {} (database {}, user {})",
        hosts.join(","),
        ports.join(","),
        config.get_dbname().unwrap_or("?"),
        config.get_user().unwrap_or("?")
    )
}

/// Connects, explaining what to check when the server cannot be reached.
pub fn connect(url: Option<&str>) -> Result<Client> {
    let config = resolve(url, &|name| std::env::var(name).ok())?;
    config.connect(NoTls).map_err(|e| {
        anyhow!(
            "cannot connect to PostgreSQL at {}: {}\n\
             Is the server running and the database there? For the project-local cluster run \
             ./fashrec.sh start; for another server pass --url postgresql://user@host:port/dbname \
             or set DATABASE_URL or PGHOST/PGPORT/PGUSER/PGDATABASE.",
            describe(&config),
            with_causes(&e)
        )
    })
}

/// An error with its causes ("error connecting to server: Connection refused ...").
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Fails with the command to run unless the fashrec extension is installed in the database.
pub fn require_extension(client: &mut Client) -> Result<()> {
    let row = client
        .query_one(
            "SELECT current_database()::text, \
                    EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'fashrec')",
            &[],
        )
        .context("cannot check for the fashrec extension")?;
    let database: String = row.try_get(0)?;
    let installed: bool = row.try_get(1)?;
    if !installed {
        bail!(
            "extension fashrec is not installed in database {database}: run CREATE EXTENSION fashrec \
             (the products table's embedding column needs its vector type)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn no_url_no_env_means_the_local_cluster() {
        let c = resolve(None, &env_of(&[])).unwrap();
        assert_eq!(
            describe(&c),
            "127.0.0.1 port 5499 (database fashrec, user postgres)"
        );
    }

    #[test]
    fn pg_variables_follow_libpq() {
        let env = env_of(&[
            ("PGHOST", "db.example"),
            ("PGPORT", "6000"),
            ("PGUSER", "ann"),
            ("PGPASSWORD", "pw"),
        ]);
        let c = resolve(None, &env).unwrap();
        // PGDATABASE unset: libpq defaults the database to the user name.
        assert_eq!(
            describe(&c),
            "db.example port 6000 (database ann, user ann)"
        );
        assert_eq!(c.get_password(), Some(&b"pw"[..]));

        let c = resolve(
            None,
            &env_of(&[
                ("PGHOST", "/tmp/sock"),
                ("PGDATABASE", "shop"),
                ("USER", "bob"),
            ]),
        )
        .unwrap();
        assert_eq!(
            describe(&c),
            "/tmp/sock port 5432 (database shop, user bob)"
        );
        assert!(resolve(None, &env_of(&[("PGPORT", "many")])).is_err());
    }

    #[test]
    fn url_wins_and_env_fills_its_gaps() {
        let env = env_of(&[("PGHOST", "ignored"), ("PGPASSWORD", "secret")]);
        let c = resolve(Some("postgresql://u@h:1234/d"), &env).unwrap();
        assert_eq!(describe(&c), "h port 1234 (database d, user u)");
        assert_eq!(c.get_password(), Some(&b"secret"[..]));

        let c = resolve(
            Some("dbname=shop"),
            &env_of(&[("PGHOST", "x"), ("PGPORT", "7"), ("PGUSER", "v")]),
        )
        .unwrap();
        assert_eq!(describe(&c), "x port 7 (database shop, user v)");
    }

    #[test]
    fn url_with_socket_directory_in_the_query() {
        // The form the integration tests' `dburl` fixture produces.
        let c = resolve(
            Some("postgresql://u:pw@/shop?host=/tmp/pg.sock&port=5433"),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(
            describe(&c),
            "/tmp/pg.sock port 5433 (database shop, user u)"
        );
        assert_eq!(c.get_password(), Some(&b"pw"[..]));
    }

    #[test]
    fn bad_url_is_reported_without_its_password() {
        let err = resolve(Some("postgresql://u:hunter2@h:notaport/d"), &env_of(&[])).unwrap_err();
        let msg = format!("{err:#}");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("u:***@h"), "{msg}");
    }
}

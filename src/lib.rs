//! fashrec: multimodal product search and recommendation inside PostgreSQL.
//! This crate is glue: algorithms live in the PostgreSQL-free crates under crates/.

::pgrx::pg_module_magic!(name, version);

mod attach;
mod embed;
mod error;
mod evaluate;
mod index;
mod recommend;
mod vector;

/// Registers the settings and index options when the library is loaded.
#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    embed::settings::register();
    index::gucs::register();
    index::options::register();
}

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}

//! fashrec-shop: a storefront over a fashrec catalog database. Every result it shows comes from
//! the extension's SQL functions (recommend_for_text, recommend_for_image, recommend_similar,
//! recommend_for_profile); the shop itself only renders them.

mod db;
mod filters;
mod likes;
mod product;
mod ranking;
mod search;
mod session;
mod timing;
mod views;
mod web;

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;

/// Serve the fashrec storefront.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The catalog database, as a role with only the shop's privileges (crates/shop/sql/setup.sql)
    #[arg(
        long,
        env = "FASHREC_SHOP_DATABASE",
        default_value = "postgresql://fashrec_shop@127.0.0.1:5499/fashrec"
    )]
    url: String,
    /// Address to listen on (loopback by default: the shop has no authentication)
    #[arg(long, env = "FASHREC_SHOP_LISTEN", default_value = "127.0.0.1")]
    listen: IpAddr,
    /// Port to listen on (0: any free port, printed at start)
    #[arg(long, env = "FASHREC_SHOP_PORT", default_value_t = 8099)]
    port: u16,
    /// Database connections at most (each backend holds its own copy of the models)
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    connections: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let pool = match db::pool(&args.url, usize::from(args.connections)) {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let listener =
        match tokio::net::TcpListener::bind(SocketAddr::new(args.listen, args.port)).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("error: cannot listen on {}:{}: {e}", args.listen, args.port);
                return ExitCode::from(2);
            }
        };
    match listener.local_addr() {
        // The tests and fashrec.sh read this line for the address (port 0 picks one).
        Ok(addr) => println!("fashrec shop listening on http://{addr}/"),
        Err(e) => eprintln!("warning: cannot read the listening address: {e}"),
    }
    if let Err(e) = axum::serve(listener, web::router(pool)).await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

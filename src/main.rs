//! `switchyard --config FILE`: load and validate the config, then run the gateway.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// jemalloc instead of glibc malloc: under load glibc's malloc/free took ~10 % of the proxy's
/// CPU (docs/benchmarks.md, "Profile"); jemalloc's thread caches are cheaper, at about the same
/// idle RSS (mimalloc was as fast but doubled idle RSS).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit code for an invalid configuration (sysexits EX_CONFIG).
const EX_CONFIG: u8 = 78;

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "Self-hosted AI API gateway on Cloudflare Pingora"
)]
struct Cli {
    /// Config file (YAML).
    #[arg(
        short,
        long,
        env = "SWITCHYARD_CONFIG",
        default_value = "conf/switchyard.yaml"
    )]
    config: PathBuf,
    /// Validate the config and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,switchyard=info"),
    )
    .format_timestamp_millis()
    .init();
    switchyard::reload::install_sighup_handler();
    let config = match switchyard::config::Config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchyard: invalid config {}: {e}", cli.config.display());
            return ExitCode::from(EX_CONFIG);
        }
    };
    if cli.check {
        println!("switchyard: config {} is valid", cli.config.display());
        return ExitCode::SUCCESS;
    }
    let listen = config.server.listen;
    let admin = config.server.admin_listen;
    let server = match switchyard::server::build(config, &cli.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchyard: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    log::info!("switchyard listening on {listen} (admin {admin})");
    server.run_forever()
}

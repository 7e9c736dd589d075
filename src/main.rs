//! `switchyard --config FILE`: load and validate the config, then run the gateway.
//! `switchyard --upgrade`: take the listening sockets over from a running gateway.
//! `switchyard check --config FILE`: validate the config and exit.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use switchyard::config::Config;
use switchyard::server::Listeners;

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
    #[command(subcommand)]
    command: Option<Command>,
    /// Config file (YAML).
    #[arg(
        short,
        long,
        global = true,
        env = "SWITCHYARD_CONFIG",
        default_value = "conf/switchyard.yaml"
    )]
    config: PathBuf,
    /// Validate the config and exit (same as `switchyard check`).
    #[arg(long, conflicts_with = "upgrade")]
    check: bool,
    /// Zero-downtime upgrade: take the listening sockets over from the running gateway, which
    /// hands them over on SIGQUIT (send it within ~5 s) through `server.upgrade_sock`, then
    /// drains and exits.
    #[arg(short, long)]
    upgrade: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the config and exit: 0 when valid, 78 naming the first invalid field.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,switchyard=info"),
    )
    .format_timestamp_millis()
    .init();
    if cli.check || matches!(cli.command, Some(Command::Check)) {
        return check(&cli.config);
    }
    switchyard::reload::install_sighup_handler();
    let Some(config) = load(&cli.config) else {
        return ExitCode::from(EX_CONFIG);
    };
    let listen = config.server.listen;
    let admin = config.server.admin_listen;
    let listeners = if cli.upgrade {
        Listeners::Upgrade
    } else {
        Listeners::Bind
    };
    let server = match switchyard::server::build(config, &cli.config, listeners) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchyard: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    log::info!("switchyard listening on {listen} (admin {admin})");
    server.run_forever()
}

/// Loads the config; prints the error (which names the field) when it is invalid.
fn load(path: &Path) -> Option<Config> {
    Config::load(path)
        .map_err(|e| eprintln!("switchyard: invalid config {}: {e}", path.display()))
        .ok()
}

/// `switchyard check`: validates the config without starting anything.
fn check(path: &Path) -> ExitCode {
    match load(path) {
        Some(_) => {
            println!("switchyard: config {} is valid", path.display());
            ExitCode::SUCCESS
        }
        None => ExitCode::from(EX_CONFIG),
    }
}

//! `switchyard-emulator`: fake OpenAI, Anthropic, Gemini, Bedrock, Ollama and Cohere upstreams
//! with per-request fault injection.
//!
//! One module per provider (request validation and error bodies in `mod.rs`, response rendering
//! in `render.rs`); shared: `server` (routing, recording, faults), `scenario` (what to answer),
//! `directives` (the fault syntax), `delivery` (writing bodies and streams), `embeddings`.

mod anthropic;
mod b64;
mod bedrock;
mod cohere;
mod context_window;
mod delivery;
mod directives;
mod embeddings;
mod error;
mod gemini;
mod ollama;
mod openai;
mod recorder;
mod scenario;
mod server;

use std::net::ToSocketAddrs;
use std::process::ExitCode;

use clap::Parser;
use pingora::server::Server;
use pingora::server::configuration::ServerConf;
use pingora::services::listening::Service;

/// Fake OpenAI Chat Completions / Anthropic Messages upstream for gateway tests and benchmarks.
#[derive(Parser, Debug)]
#[command(name = "switchyard-emulator", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "EMULATOR_LISTEN", default_value = "127.0.0.1:9000")]
    listen: String,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Do not record requests or stats (for benchmarks).
    #[arg(long)]
    no_record: bool,
    /// Seed of the random draws of `fail_rate`.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    if cli
        .listen
        .to_socket_addrs()
        .map_or(true, |mut a| a.next().is_none())
    {
        eprintln!(
            "switchyard-emulator: invalid --listen address `{}`",
            cli.listen
        );
        return ExitCode::from(2);
    }
    if let Err(e) = std::net::TcpListener::bind(&cli.listen) {
        eprintln!("switchyard-emulator: cannot listen on {}: {e}", cli.listen);
        return ExitCode::from(2);
    }

    let conf = ServerConf {
        threads: cli.threads.max(1),
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let app = server::EmulatorApp::new(!cli.no_record, cli.seed);
    let mut service = Service::new("switchyard-emulator".to_string(), app);
    service.add_tcp(&cli.listen);
    server.add_service(service);

    eprintln!("switchyard-emulator listening on {}", cli.listen);
    server.run_forever();
}

//! `switchyard-emulator`: a fake OpenAI / Anthropic upstream with per-request fault injection.

mod anthropic;
mod anthropic_render;
mod b64;
mod bedrock;
mod bedrock_embed;
mod bedrock_messages;
mod bedrock_render;
mod cohere;
mod cohere_render;
mod context_window;
mod count_tokens;
mod delivery;
mod directives;
mod embeddings;
mod error;
mod gemini;
mod gemini_config;
mod gemini_render;
mod ollama;
mod ollama_render;
mod openai;
mod openai_render;
mod recorder;
mod scenario;
mod server;
mod sigv4;

use std::net::ToSocketAddrs;

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

fn main() {
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
        std::process::exit(2);
    }
    if let Err(e) = std::net::TcpListener::bind(&cli.listen) {
        eprintln!("switchyard-emulator: cannot listen on {}: {e}", cli.listen);
        std::process::exit(2);
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

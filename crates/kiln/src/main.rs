//! `kiln`: one binary for the whole platform. The subcommands are thin: they
//! parse arguments, wire a store to the server or an engine, and print.

mod admin;
mod bench;
mod catalog;
mod compiled_cache;
mod edge;
mod forecast;
mod import;
mod model;
mod passport;
mod schedule;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Made-to-order manufacturing: configure, order, plan, make, ship"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform: JSON API, OpenAPI document, health and metrics.
    Serve(serve::ServeArgs),
    /// Check product model files.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Publish a brand's catalog to a running platform.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// The platform operator's commands (platform admin keys).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Benchmarks: engines on standard files, the platform over HTTP.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Schedule job shops and flexible job shops from standard benchmark files.
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Forecast every series of a CSV file, each with the model chosen by cross-validation.
    Forecast(forecast::ForecastArgs),
    /// Load data into a running platform: a retailer's sales.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Product passports: check one offline.
    #[command(subcommand)]
    Passport(passport::PassportCommand),
    /// The factory floor's edge: play a brand's machines against a server.
    #[command(subcommand)]
    Edge(EdgeCommand),
}

#[derive(clap::Subcommand)]
enum EdgeCommand {
    /// Play a brand's factory floor (operations finishing, random
    /// breakdowns) against a running server, over HTTP or NATS JetStream;
    /// prints how fast breakdowns show replanned.
    Simulate(edge::simulate::SimulateArgs),
}

/// mimalloc instead of the system's malloc: see docs/decisions.md, "The
/// allocator".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Model(cmd) => model::run(cmd),
        Command::Catalog(cmd) => catalog::run(cmd),
        Command::Admin(cmd) => admin::run(cmd),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Import(cmd) => import::run(cmd),
        Command::Schedule(cmd) => schedule::run(cmd),
        Command::Forecast(args) => forecast::run(args),
        Command::Passport(cmd) => passport::run(cmd),
        Command::Edge(EdgeCommand::Simulate(args)) => edge::simulate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

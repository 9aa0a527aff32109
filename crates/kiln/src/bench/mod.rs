//! `kiln bench ...`: measure the engines and the platform on standard or
//! generated cases. Figures go to stdout (`--json` for one object).

mod bulk;
mod configurator;
mod events;
mod factory;
mod forecast;
mod hook;
mod mrp;
mod orders;
mod passport;
mod pgbench;
mod promise;
pub(crate) mod rng;
mod webhooks;

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Place orders concurrently over HTTP against a running `kiln serve --demo`.
    Orders(orders::OrdersArgs),
    /// Configurator: replay real sales configurations as sessions (domains
    /// and an explanation after every step).
    Configurator(configurator::ConfiguratorArgs),
    /// Forecasting: M4 accuracy (sMAPE, MASE, OWA) and a million intermittent series.
    #[command(subcommand)]
    Forecast(forecast::ForecastBench),
    /// MRP: full regeneration and net change on a generated multi-level BOM.
    Mrp(mrp::MrpArgs),
    /// Capable-to-promise: insert orders one by one into a generated live plan; then one
    /// work centre goes down and the replan is timed.
    Promise(promise::PromiseArgs),
    /// Webhooks: orders at a steady rate, a receiver in this process; the delay
    /// from commit to delivery, and a receiver's backlog after it was down.
    Webhooks(webhooks::WebhooksArgs),
    /// Passports: signing with the label's QR code per unit, and offline verification per second.
    Passport(passport::PassportArgs),
    /// Bulk orders: a CSV of 10,000 and 50,000 shirts (2% bad rows) quoted,
    /// then accepted as one order; time and peak memory.
    Bulk(bulk::BulkArgs),
    /// Events: Segment batches through `/v1/batch` into a server in this
    /// process on SQLite; then a million identifiers resolved, one profile in
    /// ten merged.
    Events(events::EventsArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Orders(args) => orders::run(args),
        BenchCommand::Configurator(args) => configurator::run(args),
        BenchCommand::Forecast(cmd) => forecast::run(cmd),
        BenchCommand::Mrp(args) => mrp::run(args),
        BenchCommand::Promise(args) => promise::run(args),
        BenchCommand::Webhooks(args) => webhooks::run(args),
        BenchCommand::Passport(args) => passport::run(args),
        BenchCommand::Bulk(args) => bulk::run(args),
        BenchCommand::Events(args) => events::run(args),
    }
}

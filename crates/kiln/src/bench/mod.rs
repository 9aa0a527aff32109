//! `kiln bench ...`: measure the engines and the platform on standard or
//! generated cases. Figures go to stdout (`--json` for one object).

mod orders;

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Place orders concurrently over HTTP against a running `kiln serve --demo`.
    Orders(orders::OrdersArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Orders(args) => orders::run(args),
    }
}

//! `kiln admin ...`: the platform operator's commands on the server's own
//! store, without going through HTTP.

use std::process::ExitCode;

use anyhow::Context;
use kiln_app::{App, Config};

use crate::serve::{StoreArgs, open_store};

#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// Mint a platform admin key and print it (shown once).
    Key {
        #[command(flatten)]
        store: StoreArgs,
        /// What the key is for.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

pub fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match cmd {
            AdminCommand::Key { store, label } => {
                let store = open_store(&store, None).await?;
                let app = App::new(store, Config::default());
                let key = app
                    .mint_admin_key(&label)
                    .await
                    .context("minting a platform admin key")?;
                println!("platform admin key: {key}");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

//! `kiln serve --demo` as a child process on a free port, for the tests of
//! commands that talk to a running platform.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn kiln() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
}

/// A running demo server: its address and what it printed before it listened.
pub struct Demo {
    pub child: Child,
    pub url: String,
    pub printed: Vec<String>,
}

impl Demo {
    /// The rest of the printed line that starts with `prefix`, if any.
    pub fn printed(&self, prefix: &str) -> Option<String> {
        self.printed
            .iter()
            .find_map(|l| l.strip_prefix(prefix).map(|k| k.trim().to_string()))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kiln serve --demo` on `data` and waits until it listens.
pub fn serve_demo(data: &Path) -> Demo {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = kiln()
        .args([
            "serve",
            "--demo",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let listening = line.starts_with("kiln listening");
        printed.push(line);
        if listening {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Demo {
        child,
        url: format!("http://127.0.0.1:{port}"),
        printed,
    }
}

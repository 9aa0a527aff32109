//! `kiln serve` as a child process on a free port, to be killed: what the
//! crash and failover tests start.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `kiln serve`; killed (SIGKILL) and reaped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// The demo brand's key, for a server started with `--demo`.
    pub key: String,
}

impl Server {
    /// Starts the binary on a free port and waits until it listens (and,
    /// with `demo`, for the demo brand's key line).
    pub fn start(data_dir: &Path, database: Option<&str>, demo: bool) -> Server {
        Server::start_with(data_dir, database, demo, &[])
    }

    /// [`Server::start`] with more arguments to `kiln serve`.
    pub fn start_with(
        data_dir: &Path,
        database: Option<&str>,
        demo: bool,
        extra: &[&str],
    ) -> Server {
        let mut last_error = String::new();
        // A free port can be taken between probing and binding: try a few.
        for _ in 0..5 {
            match Server::try_start(data_dir, database, demo, extra) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("the server did not start: {last_error}");
    }

    fn try_start(
        data_dir: &Path,
        database: Option<&str>,
        demo: bool,
        extra: &[&str],
    ) -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["serve", "--addr", &addr, "--data-dir"])
            .arg(data_dir)
            .args(demo.then_some("--demo"))
            .args(database.map(|d| ["--database", d]).into_iter().flatten())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawning kiln: {e}"))?;
        // Drain both pipes for the life of the process, so it never blocks on
        // a full pipe; stdout lines come back here.
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let tx_err = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx_err.send(format!("stderr: {line}"));
            }
        });
        let mut server = Server {
            child,
            base: format!("http://{addr}"),
            key: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let mut listening = false;
        while Instant::now() < deadline && (!listening || (demo && server.key.is_empty())) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    if let Some(key) = line.strip_prefix("demo brand key: ") {
                        server.key = key.trim().to_string();
                    }
                    if line.starts_with("kiln listening on ") {
                        listening = true;
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = server.child.try_wait() {
                        return Err(format!("kiln exited with {status}: {seen:?}"));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!("kiln closed its output: {seen:?}"));
                }
            }
        }
        if !listening || (demo && server.key.is_empty()) {
            return Err(format!("no key and listening lines within 60 s: {seen:?}"));
        }
        Ok(server)
    }

    /// SIGTERM, a clean stop (the server answers what it took, flushes its
    /// orders, gives its leases back), then reap; SIGKILL after 20 s.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }

    /// SIGKILL (what `Child::kill` sends on unix), then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh PostgreSQL database for one test, dropped (forcibly) when this is
/// dropped, whether the test passed or panicked.
pub struct Database {
    admin: String,
    name: String,
}

impl Database {
    /// Creates `{prefix}_{random}` through `admin` (a `postgres://` URL);
    /// returns the new database's URL and its guard.
    pub async fn create(admin: &str, prefix: &str) -> (String, Database) {
        use sqlx::Connection as _;
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .expect("PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
        let url = match base.rfind('/') {
            Some(i) if i > base.find("://").map_or(0, |j| j + 2) => {
                format!("{}/{name}", &base[..i])
            }
            _ => format!("{base}/{name}"),
        };
        let url = if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        };
        let guard = Database {
            admin: admin.to_string(),
            name,
        };
        (url, guard)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection as _;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                }
            })
        })
        .join();
    }
}

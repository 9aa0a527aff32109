//! The harness the API suites share: a real server on a random port over
//! a fresh store (SQLite, or PostgreSQL when `KILN_TEST_POSTGRES` is set),
//! with the demo brand seeded, and HTTP helpers.
#![allow(dead_code)]

use kiln_domain::Brand;
use kiln_store::{PostgresStore, SqliteStore, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

// ---------------------------------------------------------------------------
// Harness.

#[derive(Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a test's database lives, to be removed when the test ends.
pub enum Scratch {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Scratch {
    pub async fn remove(self) {
        if let Scratch::Postgres { admin_url, name } = self {
            // Best effort: a failed drop leaves a stray database, not a failure.
            let mut admin = pg_connect(&admin_url).await;
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
            {
                eprintln!("could not drop {name}: {e}");
            }
        }
    }
}

pub async fn pg_connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection as _;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

/// `admin_url` with its database name replaced by `name`.
pub fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..host_end])
}

/// A fresh, migrated store; `None` when PostgreSQL is asked for but not
/// configured (the test is skipped).
pub async fn open_store(backend: Backend, test: &str) -> Option<(Arc<dyn Store>, Scratch)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let store = SqliteStore::open_dir(dir.path())
                .await
                .expect("SQLite opens and migrates");
            Some((Arc::new(store), Scratch::Dir(dir)))
        }
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var("KILN_TEST_POSTGRES") else {
                eprintln!("skipping {test}: set KILN_TEST_POSTGRES=postgres://... to run it");
                return None;
            };
            let name = format!("kiln_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = pg_connect(&admin_url).await;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("CREATE DATABASE");
            drop(admin);
            let store = PostgresStore::open(&database_url(&admin_url, &name))
                .await
                .expect("PostgreSQL opens and migrates");
            Some((Arc::new(store), Scratch::Postgres { admin_url, name }))
        }
    }
}

/// Webhooks may go to the tests' receivers on loopback.
pub fn config() -> kiln_app::Config {
    let mut config = kiln_app::Config::default();
    config.webhook_policy.allow_loopback = true;
    config.mail_dir =
        Some(std::env::temp_dir().join(format!("kiln-mail-{}", uuid::Uuid::now_v7().simple())));
    config
}

/// A running server on `127.0.0.1:<random port>` with the demo brand seeded.
pub struct App {
    pub base: String,
    pub slug: String,
    pub key: String,
    pub store: Arc<dyn Store>,
    pub kiln: Arc<kiln_app::App>,
    pub http: reqwest::Client,
    pub server: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Opens a store on `backend`, seeds the demo brand and serves it.
pub async fn spawn_app(backend: Backend, test: &str) -> Option<(App, Scratch)> {
    let (store, scratch) = open_store(backend, test).await?;
    let kiln = kiln_app::App::new(store.clone(), config());
    let (brand, key) = kiln.seed_demo().await.expect("the demo seeds");
    kiln.start_webhooks();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().unwrap();
    let state = kiln_server::AppState::new(kiln.clone());
    let server = tokio::spawn(async move {
        kiln_server::serve(listener, state)
            .await
            .expect("the server runs");
    });
    let app = App {
        base: format!("http://{addr}"),
        slug: brand.slug.to_string(),
        key,
        store,
        kiln,
        http: reqwest::Client::new(),
        server,
    };
    Some((app, scratch))
}

/// Runs `body` against a fresh app, cleans up whether it passed or panicked,
/// then passes the panic on.
pub async fn run<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(App) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((app, scratch)) = spawn_app(backend, test).await else {
        return;
    };
    let outcome = tokio::spawn(body(app)).await;
    scratch.remove().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

// ---------------------------------------------------------------------------
// HTTP helpers.

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response.text().await.expect("a response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            body,
            text,
        }
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: StatusCode) -> Reply {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with `status`, returning its field paths.
    pub fn problem(self, status: StatusCode) -> Vec<String> {
        let reply = self.expect(status);
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(reply.body["status"], status.as_u16());
        assert!(reply.body["title"].is_string(), "{}", reply.text);
        assert!(reply.body["type"].is_string(), "{}", reply.text);
        reply.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["path"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl App {
    /// A second server on the same store, as after a restart: it rebuilds
    /// its plan from what is stored.
    pub async fn restarted(&self) -> App {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().unwrap();
        let kiln = kiln_app::App::new(self.store.clone(), config());
        kiln.start_webhooks();
        let state = kiln_server::AppState::new(kiln.clone());
        let server = tokio::spawn(async move {
            kiln_server::serve(listener, state)
                .await
                .expect("the server runs");
        });
        App {
            base: format!("http://{addr}"),
            slug: self.slug.clone(),
            key: self.key.clone(),
            store: self.store.clone(),
            kiln,
            http: reqwest::Client::new(),
            server,
        }
    }

    /// Any method on any path of this server, with a key or none.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    /// `/api/v1/brands/<slug><path>`.
    pub fn brand_url(&self, path: &str) -> String {
        format!("{}{}", self.base, self.brand_path(path))
    }

    /// The same path without the server's address, as [`App::call`] takes it.
    pub fn brand_path(&self, path: &str) -> String {
        format!("/api/v1/brands/{}{path}", self.slug)
    }

    pub async fn get_public(&self, path: &str) -> Reply {
        Reply::from(self.http.get(self.brand_url(path)).send().await.unwrap()).await
    }

    /// GET with the brand's key.
    pub async fn get(&self, path: &str) -> Reply {
        self.get_with_key(path, Some(&self.key)).await
    }

    pub async fn get_with_key(&self, path: &str, key: Option<&str>) -> Reply {
        let mut req = self.http.get(self.brand_url(path));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    /// POST JSON with the brand's key.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        let req = self
            .http
            .post(self.brand_url(path))
            .bearer_auth(&self.key)
            .json(body);
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> Reply {
        let req = self
            .http
            .post(self.brand_url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn configure(&self, product: &str, selections: Value) -> Reply {
        self.post(
            &format!("/products/{product}/configure"),
            &json!({ "selections": selections }),
        )
        .await
    }

    pub async fn place(&self, key: Option<&str>, body: &Value) -> Reply {
        let mut req = self.http.post(self.brand_url("/orders")).json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    /// Places `body` and returns the new order's id.
    pub async fn place_ok(&self, body: &Value) -> String {
        let key = uuid::Uuid::new_v4().to_string();
        let reply = self
            .place(Some(&key), body)
            .await
            .expect(StatusCode::CREATED);
        reply.body["id"].as_str().expect("an order id").to_string()
    }

    pub async fn order(&self, id: &str) -> Value {
        self.get(&format!("/orders/{id}"))
            .await
            .expect(StatusCode::OK)
            .body
    }

    /// A second brand with its own key and the demo catalog, made through
    /// the application layer.
    pub async fn other_brand(&self) -> (Brand, String) {
        let actor = kiln_app::Actor::Cli;
        let (brand, key) = self
            .kiln
            .create_brand(&actor, "other", "Other Brand")
            .await
            .unwrap();
        let files = kiln_app::demo::FILES
            .iter()
            .map(|(name, source)| kiln_app::catalog::SourceFile {
                name: name.to_string(),
                source: source.to_string(),
            })
            .collect();
        self.kiln
            .publish_catalog(&actor, &brand, files)
            .await
            .unwrap();
        (brand, key.api_key)
    }
}

/// A client that stops at redirects, so a test reads their cookies.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `name=value` of each cookie a response sets.
pub fn cookies_of(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect()
}

/// Signs in to the console with the brand key; the `Cookie` header to send.
pub async fn console_cookie(app: &App, http: &reqwest::Client) -> String {
    let signed = http
        .post(format!("{}/console/sign-in", app.base))
        .form(&[("key", app.key.as_str())])
        .send()
        .await
        .expect("sign in");
    cookies_of(&signed).join("; ")
}

/// Signs in to store mode with the brand key at `store`; the `Cookie` header.
pub async fn store_mode_cookie(app: &App, http: &reqwest::Client, store: &str) -> String {
    let signed = http
        .post(format!("{}/store/sign-in", app.base))
        .form(&[("key", app.key.as_str())])
        .send()
        .await
        .expect("sign in");
    let cookie = cookies_of(&signed).join("; ");
    let chose = http
        .post(format!("{}/store/choose", app.base))
        .header(reqwest::header::COOKIE, cookie.clone())
        .form(&[("store", store)])
        .send()
        .await
        .expect("choose a store");
    [cookie, cookies_of(&chose).join("; ")].join("; ")
}

pub fn order_body(email: &str, product: &str, selections: Value, quantity: u32) -> Value {
    json!({
        "customer": { "name": "Ada Lovelace", "email": email },
        "ship_to": {
            "name": "Ada Lovelace",
            "line1": "12 Analytical Way",
            "city": "London",
            "postal_code": "N1 9GU",
            "country": "GB"
        },
        "channel": "online",
        "lines": [{ "product": product, "selections": selections, "quantity": quantity }]
    })
}

pub fn mug(email: &str) -> Value {
    order_body(
        email,
        "mug",
        json!({ "size": "L", "shape": "tall", "glaze": "#1d3557", "pattern": "stripes" }),
        2,
    )
}

pub fn option<'a>(outcome: &'a Value, id: &str) -> &'a Value {
    outcome["options"]
        .as_array()
        .expect("options")
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("no option {id} in {outcome}"))
}

pub fn value<'a>(option: &'a Value, id: &str) -> &'a Value {
    option["values"]
        .as_array()
        .expect("values")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no value {id} in {option}"))
}

/// The distinct work orders of an order's lines.
pub fn work_orders_of(order: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in order["lines"].as_array().expect("lines") {
        let id = line["work_order_id"].as_str().expect("a work order id");
        if !out.iter().any(|w| w == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// Today plus `days`, in UTC, as `YYYY-MM-DD`.
pub fn today_plus(days: i64) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

pub fn timestamp(at: &Value) -> jiff::Timestamp {
    at.as_str()
        .unwrap_or_else(|| panic!("a time, not {at}"))
        .parse()
        .unwrap_or_else(|e| panic!("{at} is not RFC 3339: {e}"))
}

/// Instantiates each behaviour for both backends: `sqlite::NAME` and
/// `postgres::NAME`.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!("sqlite::", stringify!($name));
                    super::run(super::Backend::Sqlite, test, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!("postgres::", stringify!($name));
                    super::run(super::Backend::Postgres, test, super::$name).await;
                }
            )*
        }
    };
}

/// Starts and completes every operation of work order `wo`, through the API.
pub async fn make_work_order(app: &App, wo: &str) {
    for seq in operation_seqs(app, wo).await {
        work_operation(app, wo, seq).await;
    }
}

/// The operation numbers of work order `wo`, in routing order.
pub async fn operation_seqs(app: &App, wo: &str) -> Vec<i64> {
    let w = app
        .get(&format!("/work-orders/{wo}"))
        .await
        .expect(StatusCode::OK);
    w.body["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| op["seq"].as_i64().expect("a seq"))
        .collect()
}

/// Starts and completes operation `seq` of work order `wo`.
pub async fn work_operation(app: &App, wo: &str, seq: i64) {
    for act in ["start", "complete"] {
        app.post(
            &format!("/work-orders/{wo}/operations/{seq}/{act}"),
            &json!({}),
        )
        .await
        .expect(StatusCode::OK);
    }
}

/// Every operation in a schedule answer, once, as
/// `(work centre, machine, setup start, end, order, line, operation)`.
pub fn scheduled_operations(
    schedule: &Value,
) -> Vec<(String, u64, String, String, String, i64, String)> {
    let mut out = Vec::new();
    for w in schedule["work_centers"].as_array().unwrap() {
        for day in w["days"].as_array().unwrap() {
            for b in day["bars"].as_array().unwrap() {
                out.push((
                    w["id"].as_str().unwrap().to_string(),
                    b["machine"].as_u64().unwrap(),
                    b["setup_start"].as_str().unwrap().to_string(),
                    b["end"].as_str().unwrap().to_string(),
                    b["order_id"].as_str().unwrap().to_string(),
                    b["line_no"].as_i64().unwrap(),
                    b["operation"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

//! The factory floor through NATS JetStream (issue 15 §3): `kiln serve
//! --nats` takes machine events from the stream, drops resent ones, refuses
//! ones it can never apply, replans a breakdown's promises, and loses
//! nothing published while it was down. Runs when `KILN_TEST_NATS` names a
//! NATS server with JetStream (`.ci/run` sets it); each run uses its own
//! subject prefix, stream and consumer.

mod process;

use std::time::{Duration, Instant};

use process::Server;
use serde_json::{Value, json};

fn nats_url() -> Option<String> {
    std::env::var("KILN_TEST_NATS")
        .ok()
        .filter(|u| !u.is_empty())
}

struct Floor {
    js: async_nats::jetstream::Context,
    prefix: String,
}

impl Floor {
    async fn publish(&self, wc: &str, machine: u16, msg_id: Option<&str>, body: Vec<u8>) {
        let subject = format!("{}.demo.{wc}.{machine}", self.prefix);
        let mut headers = async_nats::HeaderMap::new();
        if let Some(id) = msg_id {
            headers.insert("Nats-Msg-Id", id);
        }
        self.js
            .publish_with_headers(subject, headers, body.into())
            .await
            .expect("published")
            .await
            .expect("kept by JetStream");
    }

    async fn event(&self, wc: &str, machine: u16, seq: i64, what: Value) {
        let mut e = what;
        e["seq"] = json!(seq);
        e["at"] = json!(jiff::Timestamp::now().to_string());
        e["work_center"] = json!(wc);
        e["machine"] = json!(machine);
        let id = format!("demo.{wc}.{machine}.{seq}");
        self.publish(wc, machine, Some(&id), serde_json::to_vec(&e).unwrap())
            .await;
    }
}

async fn get(http: &reqwest::Client, server: &Server, path: &str) -> Value {
    http.get(format!("{}/api/v1/brands/demo{path}", server.base))
        .bearer_auth(&server.key)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// Waits until `GET /machines` satisfies `done`.
async fn until(
    http: &reqwest::Client,
    server: &Server,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let states = get(http, server, "/machines").await;
        if done(&states) {
            return states;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within 15 s; machines: {states}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn state<'a>(states: &'a Value, wc: &str, machine: u16) -> Option<&'a Value> {
    states
        .as_array()?
        .iter()
        .find(|s| s["work_center"] == wc && s["machine"] == machine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_events_through_jetstream_apply_once_and_survive_a_restart() {
    let Some(url) = nats_url() else {
        eprintln!("KILN_TEST_NATS is not set: skipped");
        return;
    };
    let prefix = format!("kilntest.t{}.floor", uuid::Uuid::new_v4().simple());
    let client = async_nats::connect(&url).await.expect("NATS");
    let floor = Floor {
        js: async_nats::jetstream::new(client),
        prefix: prefix.clone(),
    };
    // The stream as the server makes it, made here first: the machines may
    // publish before the server has started reading.
    use async_nats::jetstream::stream;
    floor
        .js
        .get_or_create_stream(stream::Config {
            name: prefix.replace(['.', '-'], "_").to_ascii_uppercase(),
            subjects: vec![format!("{prefix}.>")],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .expect("the stream");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let args = ["--nats", url.as_str(), "--nats-prefix", prefix.as_str()];
    let (p, a) = (path.clone(), args.map(str::to_string));
    let mut server = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        Server::start_with(&p, None, true, &a)
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();

    // An order whose work the kiln's two machines must do.
    let order: Value = http
        .post(format!("{}/api/v1/brands/demo/orders", server.base))
        .bearer_auth(&server.key)
        .json(&json!({
            "channel": "online",
            "customer": { "name": "Ada Lovelace", "email": "ada@example.com" },
            "ship_to": { "name": "Ada Lovelace", "line1": "12 Analytical Way", "city": "London",
                         "postal_code": "N1 9GU", "country": "GB" },
            "lines": [{ "product": "mug", "quantity": 2,
                        "selections": { "size": "L", "shape": "tall", "glaze": "#1d3557", "pattern": "stripes" } }]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().expect("an order").to_string();
    let before = order["promised_date"].as_str().unwrap().to_string();

    // Both kiln machines break for a week; the first event is sent twice
    // with one message id (JetStream drops it) and once more with another
    // (Kiln's inbox drops it), and a message no one can apply is refused.
    let down = json!({ "type": "machine.down", "reason": "element burnt out", "expected_minutes": 7 * 24 * 60 });
    floor.event("kiln", 0, 1, down.clone()).await;
    floor.event("kiln", 0, 1, down.clone()).await;
    let mut again = down.clone();
    again["seq"] = json!(1);
    again["at"] = json!(jiff::Timestamp::now().to_string());
    again["work_center"] = json!("kiln");
    again["machine"] = json!(0);
    floor
        .publish(
            "kiln",
            0,
            Some("another-id"),
            serde_json::to_vec(&again).unwrap(),
        )
        .await;
    floor
        .publish("kiln", 0, None, b"not an event".to_vec())
        .await;
    floor.event("kiln", 1, 1, down.clone()).await;
    let states = until(&http, &server, "both machines down", |s| {
        [0, 1]
            .iter()
            .all(|m| state(s, "kiln", *m).is_some_and(|x| !x["down"].is_null()))
    })
    .await;
    assert_eq!(state(&states, "kiln", 0).unwrap()["last_seq"], 1);
    let after = get(&http, &server, &format!("/orders/{id}")).await;
    assert!(
        after["promised_date"].as_str().unwrap() > before.as_str(),
        "{after}"
    );

    // The server dies; a machine comes back up while it is gone. The event
    // waits in the stream and is applied once the server is back.
    server.kill();
    floor
        .event("kiln", 0, 2, json!({ "type": "machine.up" }))
        .await;
    let (p, a) = (path.clone(), args.map(str::to_string));
    let server = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        Server::start_with(&p, None, true, &a)
    })
    .await
    .unwrap();
    let states = until(&http, &server, "machine 0 up after the restart", |s| {
        state(s, "kiln", 0).is_some_and(|x| x["down"].is_null() && x["last_seq"] == 2)
    })
    .await;
    assert!(!state(&states, "kiln", 1).unwrap()["down"].is_null());

    // The stream holds nothing more: everything was kept and acknowledged.
    let mut stream = floor
        .js
        .get_stream(prefix.replace(['.', '-'], "_").to_ascii_uppercase())
        .await
        .expect("the stream");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = stream.info().await.expect("stream info");
        if info.state.messages == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} messages left",
            info.state.messages
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);
    let _ = floor
        .js
        .delete_stream(stream.cached_info().config.name.clone())
        .await;
}

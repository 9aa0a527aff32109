//! Delivery tests against a tiny HTTP/1.1 server on 127.0.0.1 that records what it got.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// One request as the test server saw it.
#[derive(Debug, Clone)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// Serves every connection on a fresh loopback port with `response` (a raw HTTP
/// response; `None` to never answer), and logs each request.
async fn server(response: Option<String>) -> (Url, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/hook", listener.local_addr().unwrap())).unwrap();
    let log = Log::default();
    let server_log = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (log, response) = (server_log.clone(), response.clone());
            tokio::spawn(async move { answer(stream, log, response).await });
        }
    });
    (url, log)
}

async fn answer(mut stream: TcpStream, log: Log, response: Option<String>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    log.lock().unwrap().push(Received {
        request_line,
        headers,
        body,
    });
    match response {
        Some(response) => {
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        None => tokio::time::sleep(Duration::from_secs(30)).await,
    }
}

fn respond(status: &str, extra_headers: &str, body: &str) -> Option<String> {
    Some(format!(
        "HTTP/1.1 {status}\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

const LOOPBACK: AddressPolicy = AddressPolicy {
    allow_loopback: true,
    allow_private: false,
};
const BODY: &[u8] = br#"{"type":"order.placed","data":{"id":"ord_1"}}"#;

fn sender(policy: AddressPolicy) -> Sender {
    Sender::new(policy, Duration::from_secs(10)).unwrap()
}

#[tokio::test]
async fn delivers_signed_headers_that_verify() {
    let (url, log) = server(respond("200 OK", "", "thanks")).await;
    let secret = Secret::generate();
    let attempt = sender(LOOPBACK)
        .send(&url, "msg_1", 1_700_000_000, BODY, &secret)
        .await;
    assert_eq!(attempt.status, Some(200), "{attempt:?}");
    assert!(attempt.succeeded() && !attempt.gone());
    assert_eq!(attempt.response_snippet, "thanks");
    assert_eq!(attempt.error, None);

    let got = log.lock().unwrap()[0].clone();
    assert_eq!(got.request_line, "POST /hook HTTP/1.1");
    assert_eq!(got.body, BODY);
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("user-agent"), "Kiln-Webhooks/1");
    assert_eq!(got.header("webhook-id"), "msg_1");
    let timestamp: i64 = got.header("webhook-timestamp").parse().unwrap();
    assert_eq!(timestamp, 1_700_000_000);
    assert!(secret.verify(
        got.header("webhook-id"),
        timestamp,
        &got.body,
        got.header("webhook-signature")
    ));
    assert!(!Secret::generate().verify(
        "msg_1",
        timestamp,
        &got.body,
        got.header("webhook-signature")
    ));
}

#[tokio::test]
async fn refuses_loopback_unless_allowed() {
    let (url, log) = server(respond("200 OK", "", "")).await;
    let attempt = sender(AddressPolicy::default())
        .send(&url, "msg_1", 1, BODY, &Secret::generate())
        .await;
    assert_eq!(attempt.status, None);
    assert!(!attempt.succeeded());
    let error = attempt.error.unwrap();
    assert!(
        error.starts_with("127.0.0.1 is a loopback address"),
        "{error}"
    );

    let by_name = Url::parse(&format!("http://localhost:{}/hook", url.port().unwrap())).unwrap();
    let attempt = sender(AddressPolicy::default())
        .send(&by_name, "msg_1", 1, BODY, &Secret::generate())
        .await;
    assert!(attempt.error.unwrap().contains("loopback"));
    assert!(
        log.lock().unwrap().is_empty(),
        "nothing may reach the server"
    );
}

#[tokio::test]
async fn the_resolver_refuses_names_that_resolve_to_loopback() {
    // What a DNS rebinding looks like from here: a name that passed the URL check but
    // resolves to 127.0.0.1 when connecting. Go past `send`'s URL check to reach it.
    let (url, log) = server(respond("200 OK", "", "")).await;
    let strict = sender(AddressPolicy::default());
    let by_name = format!("http://localhost:{}/hook", url.port().unwrap());
    let error = strict.client.post(&by_name).send().await.unwrap_err();
    let text = describe(&error);
    assert!(
        text.contains("localhost has no address webhooks may go to"),
        "{text}"
    );
    assert!(text.contains("is a loopback address"), "{text}");
    assert!(log.lock().unwrap().is_empty());

    // The same name is fine when loopback is allowed.
    let attempt = sender(LOOPBACK)
        .send(
            &Url::parse(&by_name).unwrap(),
            "m",
            1,
            BODY,
            &Secret::generate(),
        )
        .await;
    assert_eq!(attempt.status, Some(200), "{attempt:?}");
}

#[tokio::test]
async fn resolver_keeps_only_allowed_addresses() {
    let strict = PolicyResolver {
        policy: AddressPolicy::default(),
    };
    let name: Name = "localhost".parse().unwrap();
    assert!(strict.resolve(name).await.is_err());
    let open = PolicyResolver { policy: LOOPBACK };
    let addrs: Vec<SocketAddr> = open
        .resolve("localhost".parse().unwrap())
        .await
        .unwrap()
        .collect();
    assert!(
        !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()),
        "{addrs:?}"
    );
}

#[tokio::test]
async fn reports_410_as_gone() {
    let (url, _log) = server(respond("410 Gone", "", "unsubscribed")).await;
    let attempt = sender(LOOPBACK)
        .send(&url, "msg_1", 1, BODY, &Secret::generate())
        .await;
    assert_eq!(attempt.status, Some(410));
    assert!(attempt.gone() && !attempt.succeeded());
    assert_eq!(attempt.response_snippet, "unsubscribed");
    assert_eq!(attempt.error, None);
}

#[tokio::test]
async fn does_not_follow_redirects() {
    let (url, log) = server(None).await;
    // A second server that redirects to the first one.
    let (redirecting, redirect_log) = server(respond(
        "307 Temporary Redirect",
        &format!("Location: {url}\r\n"),
        "",
    ))
    .await;
    let attempt = sender(LOOPBACK)
        .send(&redirecting, "msg_1", 1, BODY, &Secret::generate())
        .await;
    assert_eq!(attempt.status, Some(307));
    assert!(!attempt.succeeded());
    assert_eq!(redirect_log.lock().unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(log.lock().unwrap().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn keeps_only_the_first_512_bytes_of_the_answer() {
    let long = format!("{}é{}", "a".repeat(511), "b".repeat(2000));
    let (url, _log) = server(respond("500 Internal Server Error", "", &long)).await;
    let attempt = sender(LOOPBACK)
        .send(&url, "msg_1", 1, BODY, &Secret::generate())
        .await;
    assert_eq!(attempt.status, Some(500));
    assert!(!attempt.succeeded() && !attempt.gone());
    // 511 'a's and the first byte of 'é', which is not valid UTF-8 on its own.
    assert_eq!(
        attempt.response_snippet,
        format!("{}\u{fffd}", "a".repeat(511))
    );
}

#[tokio::test]
async fn times_out_in_plain_words() {
    let (url, _log) = server(None).await;
    let quick = Sender::new(LOOPBACK, Duration::from_millis(300)).unwrap();
    let attempt = quick
        .send(&url, "msg_1", 1, BODY, &Secret::generate())
        .await;
    assert_eq!(attempt.status, None);
    let error = attempt.error.unwrap();
    assert!(
        error.starts_with("the receiver did not answer in time"),
        "{error}"
    );
    assert!(
        (250..5000).contains(&attempt.duration_ms),
        "{}",
        attempt.duration_ms
    );
}

#[tokio::test]
async fn reports_connection_failures_with_their_causes() {
    // Bind, then close, so the port is very likely free and the connection refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
    let attempt = sender(LOOPBACK)
        .send(&url, "msg_1", 1, BODY, &Secret::generate())
        .await;
    assert_eq!(attempt.status, None);
    let error = attempt.error.unwrap();
    assert!(
        error.starts_with("could not connect to the receiver"),
        "{error}"
    );
    assert!(error.to_lowercase().contains("refused"), "{error}");
}

#[tokio::test]
async fn sends_several_signatures_during_a_key_rotation() {
    let (url, log) = server(respond("204 No Content", "", "")).await;
    let (new, old) = (Secret::generate(), Secret::generate());
    let both = format!(
        "{} {}",
        new.sign("msg_2", 5, BODY),
        old.sign("msg_2", 5, BODY)
    );
    let attempt = sender(LOOPBACK)
        .send_signed(&url, "msg_2", 5, BODY, &both)
        .await;
    assert!(attempt.succeeded(), "{attempt:?}");
    let got = log.lock().unwrap()[0].clone();
    for secret in [&new, &old] {
        assert!(secret.verify("msg_2", 5, &got.body, got.header("webhook-signature")));
    }
    let failed = Attempt::failed("the stored secret is unusable");
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (None, Some("the stored secret is unusable"))
    );
}

//! Delivering one webhook attempt over HTTP.
//!
//! An attempt is a `POST` of the JSON body to the endpoint's URL with the three
//! Standard Webhooks headers (see [`secret`](crate::secret)). The receiver answers 2xx
//! when it has the message; anything else, or no answer in time, is a failure to retry
//! later (see [`retry`](crate::retry)), except `410 Gone`, which means "stop sending".
//!
//! The [`Sender`] is built so that a customer's URL cannot turn it against our own
//! network (see [`policy`](crate::policy)):
//!
//! - URLs are checked before sending: scheme, credentials, and IP-literal or
//!   `localhost` hosts.
//! - Hostnames are resolved by our own resolver, which drops every address the policy
//!   refuses. The check thus happens on the addresses actually connected to, so a name
//!   that resolves to 127.0.0.1 only at delivery time ("DNS rebinding") is still caught.
//! - Redirects are not followed: a `3xx` is reported as a failed attempt, as the
//!   specification recommends, and cannot send us to an internal address.
//! - Proxies from the environment are ignored, since a proxy would resolve names itself.
//!
//! An [`Attempt`] records what happened in plain words, ready to show the endpoint's
//! owner in a delivery log.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Url, redirect};

use crate::policy::{AddressPolicy, Refused};
use crate::secret::{Secret, headers};

/// The `User-Agent` of every attempt.
pub const USER_AGENT: &str = "Kiln-Webhooks/1";
/// How long to wait for a TCP (and TLS) connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of the response body an [`Attempt`] keeps.
pub const SNIPPET_BYTES: usize = 512;
/// Idle connections kept per host, so that bursts to one endpoint reuse them.
const IDLE_PER_HOST: usize = 2;

/// Sends webhook attempts; cheap to clone, and meant to be shared.
#[derive(Debug, Clone)]
pub struct Sender {
    client: Client,
    policy: AddressPolicy,
}

/// The HTTP client could not be built (for instance, no TLS roots could be loaded).
#[derive(Debug, thiserror::Error)]
#[error("could not set up the webhook HTTP client")]
pub struct SenderError(#[source] reqwest::Error);

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// From the start of the attempt to the end of reading the snippet.
    pub duration_ms: u64,
    /// The first 512 bytes of the response body, as UTF-8 with invalid bytes replaced.
    pub response_snippet: String,
    /// Why the attempt failed before or while getting an answer (refused address,
    /// DNS, connection, timeout), in plain words with its causes.
    pub error: Option<String>,
}

impl Attempt {
    /// An attempt that failed before anything was sent, for instance because its
    /// secret or URL could not be used.
    pub fn failed(error: impl Into<String>) -> Attempt {
        Attempt {
            status: None,
            duration_ms: 0,
            response_snippet: String::new(),
            error: Some(error.into()),
        }
    }

    /// Whether the receiver took the message: a 2xx status.
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }

    /// Whether the receiver answered `410 Gone`: it wants no more webhooks, so the
    /// endpoint should be disabled rather than retried.
    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }
}

impl Sender {
    /// A sender that refuses what `policy` refuses and gives each attempt `timeout` in
    /// all (connecting, sending, and reading the first part of the answer). The
    /// specification recommends 15 to 30 seconds.
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Result<Sender, SenderError> {
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .no_proxy()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .pool_max_idle_per_host(IDLE_PER_HOST)
            .build()
            .map_err(SenderError)?;
        Ok(Sender { client, policy })
    }

    /// Makes one attempt: signs `body` with `secret` for `msg_id` at `timestamp` (unix
    /// seconds, normally now) and posts it to `url`. Never fails: every outcome is an
    /// [`Attempt`].
    pub async fn send(
        &self,
        url: &Url,
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
        secret: &Secret,
    ) -> Attempt {
        let signature = secret.sign(msg_id, timestamp, body);
        self.send_signed(url, msg_id, timestamp, body, &signature)
            .await
    }

    /// Like [`send`](Self::send), with the `webhook-signature` value made by the caller:
    /// during a key rotation, the signatures of the new and the old secret separated by
    /// a space.
    pub async fn send_signed(
        &self,
        url: &Url,
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
        signature: &str,
    ) -> Attempt {
        let started = Instant::now();
        // IP literals never reach the resolver, so they are checked here.
        if let Err(refused) = self.policy.check_url(url.as_str()) {
            return Attempt {
                duration_ms: elapsed_ms(started),
                ..Attempt::failed(refused.to_string())
            };
        }
        let mut attempt = Attempt {
            status: None,
            duration_ms: 0,
            response_snippet: String::new(),
            error: None,
        };
        let mut request = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (name, value) in headers(msg_id, timestamp, signature) {
            request = request.header(name, value);
        }
        match request.send().await {
            Err(e) => attempt.error = Some(describe(&e)),
            Ok(mut response) => {
                attempt.status = Some(response.status().as_u16());
                let mut snippet = Vec::new();
                while snippet.len() < SNIPPET_BYTES {
                    match response.chunk().await {
                        Ok(Some(bytes)) => snippet.extend_from_slice(&bytes),
                        Ok(None) => break,
                        Err(e) => {
                            attempt.error =
                                Some(format!("reading the answer failed: {}", describe(&e)));
                            break;
                        }
                    }
                }
                snippet.truncate(SNIPPET_BYTES);
                attempt.response_snippet = String::from_utf8_lossy(&snippet).into_owned();
            }
        }
        attempt.duration_ms = elapsed_ms(started);
        attempt
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A transport error in plain words, followed by its chain of causes.
fn describe(e: &reqwest::Error) -> String {
    let lead = if e.is_timeout() {
        "the receiver did not answer in time"
    } else if e.is_connect() {
        "could not connect to the receiver"
    } else {
        "the request failed"
    };
    let mut text = format!("{lead}: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Resolves names with the system resolver, then keeps only the addresses the policy
/// allows.
struct PolicyResolver {
    policy: AddressPolicy,
}

/// Why a hostname gave no address to connect to.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("could not look up {host}")]
    Lookup {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{host} has no address webhooks may go to ({refused})")]
    AllRefused { host: String, refused: Refused },
    #[error("{host} has no addresses")]
    NoAddresses { host: String },
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let looked_up = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(Iterator::collect::<Vec<SocketAddr>>);
            let found = match looked_up {
                Ok(found) => found,
                Err(source) => return Err(ResolveError::Lookup { host, source }.into()),
            };
            let mut kept: Vec<SocketAddr> = Vec::new();
            let mut first_refusal = None;
            for addr in found {
                match policy.check_ip(addr.ip()) {
                    Ok(()) => kept.push(addr),
                    Err(refused) => {
                        first_refusal.get_or_insert(refused);
                    }
                }
            }
            match (kept.is_empty(), first_refusal) {
                (false, _) => Ok(Box::new(kept.into_iter()) as Addrs),
                (true, Some(refused)) => Err(ResolveError::AllRefused { host, refused }.into()),
                (true, None) => Err(ResolveError::NoAddresses { host }.into()),
            }
        })
    }
}

#[cfg(test)]
mod tests;

//! The factory floor's edge: machine events through NATS JetStream.
//!
//! Machines (or a gateway in front of them) publish each event as JSON (the
//! body of one event of `POST .../machine-events`) on the subject
//! `kiln.floor.<brand>.<work centre>.<machine>`, with the header
//! `Nats-Msg-Id: <brand>.<work centre>.<machine>.<seq>` so JetStream drops a
//! resent message within its duplicate window (Kiln's inbox drops any later
//! one). The stream `KILN_FLOOR` keeps them on disk until a server has
//! stored them ([`consume`]); `kiln edge simulate` plays a factory's machines
//! against a running server ([`simulate`]). Another prefix than `kiln.floor`
//! (`--nats-prefix`) gives its own stream and consumer: one NATS server can
//! carry several Kiln platforms, or tests side by side.

pub mod consume;
pub mod simulate;

use std::time::Duration;

use async_nats::jetstream::{self, stream};

/// Where a platform's floor events live on NATS: the subjects under a
/// prefix, its stream and the durable consumer its servers share (each
/// message goes to one of them).
#[derive(Debug, Clone)]
pub struct Floor {
    pub prefix: String,
}

/// The default prefix.
pub const PREFIX: &str = "kiln.floor";

impl Floor {
    /// Checks a prefix: NATS tokens of letters, digits, `-` and `_`.
    pub fn new(prefix: &str) -> anyhow::Result<Floor> {
        let ok = !prefix.is_empty()
            && prefix.split('.').all(|t| {
                !t.is_empty()
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        anyhow::ensure!(
            ok,
            "--nats-prefix `{prefix}`: dot-separated words of letters, digits, - and _"
        );
        Ok(Floor {
            prefix: prefix.to_string(),
        })
    }

    /// The stream's name: the prefix in capitals, `KILN_FLOOR` by default.
    pub fn stream_name(&self) -> String {
        self.prefix.replace(['.', '-'], "_").to_ascii_uppercase()
    }

    /// The durable consumer the servers share.
    pub fn consumer_name(&self) -> String {
        self.prefix.replace('.', "-")
    }

    /// The subject of one machine's events.
    pub fn subject(&self, brand: &str, work_center: &str, machine: u16) -> String {
        format!("{}.{brand}.{work_center}.{machine}", self.prefix)
    }

    /// The brand a subject is for (`<prefix>.<brand>.…`).
    pub fn brand_of<'s>(&self, subject: &'s str) -> Option<&'s str> {
        let rest = subject
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('.')?;
        let brand = rest.split('.').next()?;
        (!brand.is_empty()).then_some(brand)
    }

    /// Makes the stream if it is not there: work-queue retention (a message
    /// leaves once a server acknowledged it), on disk, two minutes of
    /// message ids remembered against resends.
    pub async fn stream(&self, js: &jetstream::Context) -> anyhow::Result<stream::Stream> {
        let name = self.stream_name();
        js.get_or_create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![format!("{}.>", self.prefix)],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("the {name} stream: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_names_its_brand() {
        let floor = Floor::new(PREFIX).unwrap();
        assert_eq!(floor.stream_name(), "KILN_FLOOR");
        assert_eq!(
            floor.brand_of(&floor.subject("demo", "kiln", 1)),
            Some("demo")
        );
        assert_eq!(floor.brand_of("kiln.floor."), None);
        assert_eq!(floor.brand_of("kiln.floorx.demo.kiln.1"), None);
        assert_eq!(floor.brand_of("other.floor.demo.kiln.1"), None);
        assert!(Floor::new("kiln..floor").is_err());
        assert!(Floor::new("kiln.fl*or").is_err());
    }
}

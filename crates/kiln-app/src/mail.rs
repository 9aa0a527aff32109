//! Mail to people: staff invitations and password resets, and what
//! segments send to who enters them. Two adapters: the built-in one writes
//! each message as a file (`<dir>/<time>-<to>.eml`, RFC 5322 headers and a
//! plain-text body) for the demo, the tests and a relay that picks them up;
//! [`SmtpMailer`] sends through an SMTP relay (lettre). Segment mail goes
//! through an outbox (`mail_outbox`, written with the membership that
//! caused it) that [`App::start_mail_worker`] drains, retrying with backoff.

use std::path::{Path, PathBuf};

use crate::App;
use crate::error::{Error, Result};
use crate::time;

/// Who Kiln's mail is from.
const FROM: &str = "Kiln <no-reply@kiln.invalid>";
/// Attempts before a message is given up.
const MAX_ATTEMPTS: i64 = 8;

/// The mail adapter the platform was started with.
#[derive(Clone)]
pub enum Mailer {
    File(FileMailer),
    Smtp(SmtpMailer),
}

impl Mailer {
    /// Sends `mail`; where it went (a file, or the relay's name).
    pub async fn send(&self, mail: Mail) -> Result<String> {
        match self {
            Mailer::File(f) => f.send(mail).await.map(|p| p.display().to_string()),
            Mailer::Smtp(s) => s.send(mail).await,
        }
    }
}

/// Sends through an SMTP relay: lettre's async transport on tokio, with
/// STARTTLS (`smtp://...?tls=required`) or TLS (`smtps://`) on rustls.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    relay: String,
}

impl SmtpMailer {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS), or `smtp://localhost:25` (plain,
    /// for a relay on the same machine).
    pub fn from_url(url: &str) -> Result<SmtpMailer> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| Error::invalid("smtp_url", format!("not an SMTP relay URL: {e}")))?
            .build();
        let relay = url
            .rsplit('@')
            .next()
            .unwrap_or(url)
            .trim_start_matches("smtp://")
            .trim_start_matches("smtps://")
            .to_string();
        Ok(SmtpMailer { transport, relay })
    }

    pub async fn send(&self, mail: Mail) -> Result<String> {
        use lettre::AsyncTransport;
        let bad = |e: String| Error::invalid("/to", e);
        let message = lettre::Message::builder()
            .from(FROM.parse().map_err(|e| bad(format!("{e}")))?)
            .to(mail
                .to
                .parse()
                .map_err(|e| bad(format!("not an address: {e}")))?)
            .subject(mail.subject.replace(['\r', '\n'], " "))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|e| bad(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| Error::Unavailable {
                what: "the SMTP relay",
                source: Some(Box::new(e)),
            })?;
        Ok(self.relay.clone())
    }
}

impl App {
    /// The mail adapter: the SMTP relay if one is configured, else files in
    /// the mail directory.
    pub fn mailer(&self) -> Result<Mailer> {
        if let Some(url) = &self.config.smtp_url {
            return SmtpMailer::from_url(url).map(Mailer::Smtp);
        }
        self.mail_dir()
            .map(|d| Mailer::File(FileMailer::new(d)))
            .ok_or(Error::Unavailable {
                what: "mail (no mail directory or SMTP relay is configured)",
                source: None,
            })
    }

    /// Sends the mail in the outbox as it falls due: woken when segment mail
    /// is written, and every 30 s for retries. A failed message is tried
    /// again after 1, 4, 9, ... minutes, and given up after 8 attempts.
    pub fn start_mail_worker(self: &std::sync::Arc<App>) {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = app.send_due_mail().await {
                    tracing::warn!(error = %e.chain(), "mail was not sent");
                }
                tokio::select! {
                    _ = app.profiles.mail.notified() => {}
                    _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
                }
            }
        });
    }

    /// Sends what is due now; how many were sent.
    pub async fn send_due_mail(&self) -> Result<usize> {
        let mut sent = 0;
        loop {
            let due = self.store.due_mail(time::now(), 50).await?;
            if due.is_empty() {
                return Ok(sent);
            }
            let mailer = self.mailer()?;
            for m in due {
                // Another server's worker may have taken it meanwhile.
                let now = time::now();
                let until = now + jiff::SignedDuration::from_mins(5);
                if !self
                    .store
                    .claim_mail(&m.brand_id, &m.id, now, until)
                    .await?
                {
                    continue;
                }
                let result = mailer
                    .send(Mail {
                        to: m.to.clone(),
                        subject: m.subject.clone(),
                        body: m.body.clone(),
                    })
                    .await;
                match result {
                    Ok(_) => {
                        self.store
                            .mail_sent(&m.brand_id, &m.id, time::now())
                            .await?;
                        sent += 1;
                    }
                    Err(e) => {
                        let tries = m.attempts + 1;
                        let next = (tries < MAX_ATTEMPTS)
                            .then(|| time::now() + jiff::SignedDuration::from_mins(tries * tries));
                        tracing::warn!(error = %e.chain(), to = %m.to, attempt = tries, "mail not sent");
                        self.store
                            .mail_failed(&m.brand_id, &m.id, &e.chain().to_string(), next)
                            .await?;
                    }
                }
            }
        }
    }
}

/// One message: to, subject, plain-text body.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Writes mail into a directory, one file per message.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>) -> FileMailer {
        FileMailer { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `mail` off the async workers; the file appears whole (written
    /// aside, then renamed).
    pub async fn send(&self, mail: Mail) -> Result<PathBuf> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || write(&dir, &mail))
            .await
            .map_err(|e| Error::internal_from("writing mail", e))?
    }
}

fn write(dir: &Path, mail: &Mail) -> Result<PathBuf> {
    let unavailable = |e: std::io::Error| Error::Unavailable {
        what: "the mail directory",
        source: Some(Box::new(e)),
    };
    std::fs::create_dir_all(dir).map_err(unavailable)?;
    let now = time::now();
    let safe: String = mail
        .to
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = format!(
        "{}-{}-{safe}.eml",
        now.as_millisecond(),
        uuid::Uuid::now_v7().simple()
    );
    // Header values never carry a line break (no header injection).
    let clean = |s: &str| s.replace(['\r', '\n'], " ");
    let text = format!(
        "From: {FROM}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        clean(&mail.to),
        clean(&mail.subject),
        now.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        mail.body.replace('\n', "\r\n"),
    );
    let tmp = dir.join(format!(".{name}.part"));
    let path = dir.join(name);
    std::fs::write(&tmp, text).map_err(unavailable)?;
    std::fs::rename(&tmp, &path).map_err(unavailable)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A relay that speaks just enough SMTP, and hands back what it got.
    async fn relay() -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 relay ready\r\n").await.unwrap();
            let (mut got, mut data) = (String::new(), false);
            while let Ok(Some(line)) = lines.next_line().await {
                got.push_str(&line);
                got.push('\n');
                let reply: &[u8] = if data {
                    if line == "." {
                        data = false;
                        b"250 queued\r\n"
                    } else {
                        continue;
                    }
                } else if line.starts_with("EHLO") {
                    b"250 relay\r\n"
                } else if line == "DATA" {
                    data = true;
                    b"354 go on\r\n"
                } else if line == "QUIT" {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                write.write_all(reply).await.unwrap();
            }
            got
        });
        (format!("smtp://127.0.0.1:{port}"), got)
    }

    #[tokio::test]
    async fn smtp_sends_through_the_relay() {
        let (url, got) = relay().await;
        let mailer = SmtpMailer::from_url(&url).unwrap();
        mailer
            .send(Mail {
                to: "mia@example.com".into(),
                subject: "A mug\r\nBcc: evil@example.com".into(),
                body: "Hello Mia".into(),
            })
            .await
            .unwrap();
        let got = got.await.unwrap();
        assert!(got.contains("RCPT TO:<mia@example.com>"), "{got}");
        assert!(
            got.contains("Subject: A mug  Bcc: evil@example.com"),
            "{got}"
        );
        assert!(!got.contains("\nBcc:"), "{got}");
        assert!(got.contains("Hello Mia"), "{got}");
    }

    #[test]
    fn a_bad_relay_url_is_refused() {
        assert!(SmtpMailer::from_url("http://example.com").is_err());
    }
}

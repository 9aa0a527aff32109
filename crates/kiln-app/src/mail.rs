//! Mail to people: staff invitations and password resets. The built-in
//! adapter writes each message as a file (`<dir>/<time>-<to>.eml`, RFC 5322
//! headers and a plain-text body) for the demo, the tests and a relay that
//! picks them up; an SMTP adapter is the next one.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::time;

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
        "From: Kiln <no-reply@kiln.invalid>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\n\
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

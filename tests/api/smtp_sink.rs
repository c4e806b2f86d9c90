//! A real SMTP server for tests, on 127.0.0.1 and a port of its own: it speaks enough
//! of RFC 5321 for lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps every
//! mail it is given. `refuse` makes it answer 451 to MAIL, as a mail server that is
//! down for a moment would. Shared by the HTTP and browser suites.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message: headers, a blank line, the body (dot-stuffing undone).
    pub data: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The body as text, quoted-printable undone when the mail used it.
    pub fn body(&self) -> String {
        let body = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        let qp = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if qp {
            decode_quoted_printable(&body)
        } else {
            body
        }
    }

    /// The first link in the body starting with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let body = self.body();
        let start = body.find(prefix)?;
        let rest = &body[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = SmtpSink {
            port,
            mails: Arc::default(),
            refuse: Arc::default(),
        };
        let served = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let session = served.clone();
                tokio::spawn(async move {
                    let _ = session.converse(stream).await;
                });
            }
        });
        sink
    }

    /// `TASKBRIDGE_SMTP_URL` for an app that mails here.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Answer 451 to every MAIL from now on (or stop).
    pub fn refuse(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::SeqCst);
    }

    pub fn all(&self) -> Vec<Received> {
        self.mails.lock().unwrap().clone()
    }

    /// Mails addressed to `to`.
    pub fn to(&self, to: &str) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .collect()
    }

    /// Waits (up to 15 s) until `count` mails to `to` have arrived; answers them all.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<Received> {
        for _ in 0..150 {
            let mails = self.to(to);
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{count} mail(s) to {to} did not arrive; got {:?}",
            self.all()
        );
    }

    /// Waits (up to 15 s) until `count` mails to `to` titled `subject` have arrived;
    /// answers them all (other mails to `to`, such as the sign-up's confirmation, are
    /// left out).
    pub async fn wait_for_subject(&self, to: &str, subject: &str, count: usize) -> Vec<Received> {
        for _ in 0..150 {
            let mails: Vec<Received> = self
                .to(to)
                .into_iter()
                .filter(|m| m.subject() == subject)
                .collect();
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{count} mail(s) to {to} titled {subject:?} did not arrive; got {:?}",
            self.all()
        );
    }

    async fn converse(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
        let mut from = String::new();
        let mut to = Vec::new();
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let verb = command
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-sink.test\r\n250 8BITMIME\r\n",
                "HELO" | "NOOP" => b"250 OK\r\n",
                "RSET" => {
                    from.clear();
                    to.clear();
                    b"250 OK\r\n"
                }
                "MAIL" if self.refuse.load(Ordering::SeqCst) => b"451 4.3.0 Try again later\r\n",
                "MAIL" => {
                    from = address_in(&command);
                    b"250 OK\r\n"
                }
                "RCPT" => {
                    to.push(address_in(&command));
                    b"250 OK\r\n"
                }
                "DATA" => {
                    write
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let mut data = String::new();
                    loop {
                        let mut l = String::new();
                        if lines.read_line(&mut l).await? == 0 {
                            return Ok(());
                        }
                        if l == ".\r\n" {
                            break;
                        }
                        data.push_str(
                            l.strip_prefix('.')
                                .filter(|_| l.starts_with(".."))
                                .unwrap_or(&l),
                        );
                    }
                    self.mails.lock().unwrap().push(Received {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    });
                    b"250 OK queued\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 Bye\r\n").await?;
                    return Ok(());
                }
                _ => b"502 Command not implemented\r\n",
            };
            write.write_all(reply).await?;
        }
    }
}

/// `MAIL FROM:<a@b>` → `a@b`.
fn address_in(command: &str) -> String {
    let start = command.find('<').map(|i| i + 1).unwrap_or(0);
    let end = command[start..]
        .find('>')
        .map(|i| start + i)
        .unwrap_or(command.len());
    command[start..end].to_owned()
}

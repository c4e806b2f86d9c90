//! The mailer: drains the outbox table off the request path. With
//! `TASKBRIDGE_SMTP_URL` it sends each mail over SMTP (one instance per mail, through
//! a claim in the database), retrying with back-off; without it, mail stays in the
//! outbox for owners and admins to read. A failing mail server never fails a request:
//! requests only write rows.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;
use url::Url;

use crate::config::{expose, Settings};
use crate::db::{self, now, Pool};
use crate::error::AppError;
use crate::models::outbox::{self, Mail};

/// How often the outbox is looked at without a nudge (mail written by the sync
/// engine, or by another instance).
const POLL: Duration = Duration::from_secs(2);
/// How long a claimed mail is this instance's before another may take it.
const CLAIM_SECS: i64 = 120;
/// Tries before a mail is given up.
const MAX_ATTEMPTS: i32 = 5;
/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

type Smtp = AsyncSmtpTransport<Tokio1Executor>;

pub struct Mailer {
    pool: Pool,
    smtp: Option<Smtp>,
    from: Mailbox,
    base_url: Url,
    wake: Notify,
}

impl Mailer {
    pub fn new(settings: &Settings, pool: Pool) -> Result<Self, AppError> {
        let smtp = match &settings.mail.smtp_url {
            Some(url) => Some(
                Smtp::from_url(expose(url))
                    // The URL was checked at start; its words are never logged.
                    .map_err(|_| AppError::unexpected("TASKBRIDGE_SMTP_URL cannot be used"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => None,
        };
        Ok(Self {
            pool,
            smtp,
            from: settings.mail.from.clone(),
            base_url: settings.base_url.clone(),
            wake: Notify::new(),
        })
    }

    /// Whether mail goes to an SMTP server (else it stays in the outbox).
    pub fn sends(&self) -> bool {
        self.smtp.is_some()
    }

    /// The app's public URL, which makes a mail's link whole.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Mail was just written: look now rather than at the next poll.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    pub fn spawn(self: Arc<Self>) {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.drain().await {
                    tracing::warn!(error = %e, "the mailer could not read the outbox");
                }
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }

    async fn drain(&self) -> Result<(), AppError> {
        let Some(smtp) = &self.smtp else {
            // Held for good: turning SMTP on later does not send old links.
            db::run(&self.pool, |conn| {
                if !outbox::due(conn, 1)?.is_empty() {
                    outbox::hold_queued(conn)?;
                }
                Ok(())
            })
            .await?;
            return Ok(());
        };
        loop {
            let due = db::run(&self.pool, |conn| Ok(outbox::due(conn, 20)?)).await?;
            if due.is_empty() {
                return Ok(());
            }
            for id in due {
                let claimed = db::run(&self.pool, move |conn| {
                    Ok(outbox::claim(conn, id, CLAIM_SECS)?)
                })
                .await?;
                if let Some(mail) = claimed {
                    self.send(smtp, mail).await?;
                }
            }
        }
    }

    async fn send(&self, smtp: &Smtp, mail: Mail) -> Result<(), AppError> {
        let (id, attempts) = (mail.id, mail.attempts);
        let outcome = match self.message(&mail) {
            Ok(message) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                tracing::info!(mail = id, "mail sent");
                db::run(&self.pool, move |conn| Ok(outbox::mark_sent(conn, id)?)).await
            }
            Err(error) => {
                // The error is the server's or lettre's words: no password, no body.
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| now() + backoff_secs(attempts));
                tracing::warn!(mail = id, attempts, %error, gave_up = retry_at.is_none(), "mail not sent");
                db::run(&self.pool, move |conn| {
                    Ok(outbox::mark_failed(conn, id, &error, retry_at)?)
                })
                .await
            }
        }
    }

    fn message(&self, mail: &Mail) -> Result<Message, String> {
        let to: Mailbox = mail
            .to_address
            .parse()
            .map_err(|_| "the address cannot be mailed".to_owned())?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text(&self.base_url))
            .map_err(|e| format!("the mail could not be built: {e}"))
    }
}

/// 30 s, 2 min, 8 min, 32 min… after the first, second, third try.
fn backoff_secs(attempts: i32) -> i64 {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(6);
    30 * 4_i64.pow(exponent)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tries_back_off() {
        assert_eq!(super::backoff_secs(1), 30);
        assert_eq!(super::backoff_secs(2), 120);
        assert_eq!(super::backoff_secs(3), 480);
        assert!(super::backoff_secs(100) <= 30 * 4096);
    }
}

//! Sending mail: over SMTP when `SMTP_URL` is set, otherwise into `DATA_DIR/mail/` as `.eml`
//! files a developer can open.

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::AppError;

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Folder {
        dir: PathBuf,
        from: Mailbox,
    },
}

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    pub fn from_settings(
        smtp_url: Option<&str>,
        from: &str,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM is not an address: {e}"))?;
        Ok(match smtp_url {
            Some(url) => Self::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build(),
                from,
            },
            None => Self::Folder {
                dir: data_dir.join("mail"),
                from,
            },
        })
    }

    pub async fn send(&self, mail: Mail) -> Result<(), AppError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("invalid recipient: {e}")))?;
        let build = |from: &Mailbox| {
            Message::builder()
                .from(from.clone())
                .to(to.clone())
                .subject(mail.subject.clone())
                .header(ContentType::TEXT_PLAIN)
                .body(mail.body.clone())
                .map_err(|e| AppError::Internal(anyhow::anyhow!("building mail: {e}")))
        };
        match self {
            Self::Smtp { transport, from } => {
                transport
                    .send(build(from)?)
                    .await
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("SMTP: {e}")))?;
            }
            Self::Folder { dir, from } => {
                let message = build(from)?;
                let dir = dir.clone();
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
                    mail.to.replace(
                        |c: char| !c.is_ascii_alphanumeric() && c != '@' && c != '.',
                        "_"
                    )
                );
                actix_web::web::block(move || {
                    std::fs::create_dir_all(&dir)?;
                    std::fs::write(dir.join(name), message.formatted())
                })
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
                .map_err(|e| AppError::Internal(anyhow::anyhow!("writing mail: {e}")))?;
            }
        }
        Ok(())
    }
}

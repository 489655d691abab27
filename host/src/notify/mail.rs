//! E-mail: the SMTP transport from the live settings, and the messages
//! (plain text + HTML, threaded per page).
//!
//! Invariants: every text that came from users is escaped in the HTML part
//! (no page markup is ever copied into a mail: bodies are reduced to plain
//! text first); all mails about one page carry the same `References` /
//! `In-Reply-To` root, so mail clients thread them; the `Message-ID` is the
//! queue row's idempotency key, so a resent mail is recognisably the same
//! mail. The SMTP password is read here and never logged.

use std::sync::Mutex;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::cluster::Settings;
use crate::content::xml_escape as esc;
use crate::error::{Error, Result};
use crate::sync::Recover;

/// The SMTP settings a transport is built from (also its cache key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub username: String,
    password: String,
    pub from: String,
}

impl SmtpConfig {
    /// `None` when no SMTP host is set (e-mail is off).
    pub(crate) fn from_settings(s: &Settings) -> Option<SmtpConfig> {
        let host = s.text("smtp_host");
        if host.trim().is_empty() {
            return None;
        }
        Some(SmtpConfig {
            host: host.trim().to_owned(),
            port: s.text("smtp_port").parse().unwrap_or(25),
            security: s.text("smtp_security"),
            username: s.text("smtp_username"),
            password: s.text("smtp_password"),
            from: s.text("mail_from"),
        })
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
        let bad = |e: lettre::transport::smtp::Error| {
            Error::BadRequest(format!("SMTP host {:?}: {e}", self.host))
        };
        let mut b = match self.security.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host).map_err(bad)?,
            "starttls" => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host).map_err(bad)?
            }
            _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host),
        };
        b = b
            .port(self.port)
            .timeout(Some(Duration::from_secs(15)))
            .pool_config(PoolConfig::new().max_size(16));
        if !self.username.is_empty() {
            b = b.credentials(Credentials::new(
                self.username.clone(),
                self.password.clone(),
            ));
        }
        Ok(b.build())
    }
}

/// The transport for `cfg`, reused while the settings stay the same (its
/// pool keeps SMTP connections open between mails).
pub(crate) fn transport_for(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    static CACHE: Mutex<Option<(SmtpConfig, AsyncSmtpTransport<Tokio1Executor>)>> =
        Mutex::new(None);
    let mut g = CACHE.lock().recover();
    if let Some((c, t)) = g.as_ref() {
        if c == cfg {
            return Ok(t.clone());
        }
    }
    let t = cfg.transport()?;
    *g = Some((cfg.clone(), t.clone()));
    Ok(t)
}

/// How a send failed.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The server refused this mail for good (5xx): skip it, go on.
    Permanent(String),
    /// The server is unreachable or said "try later": retry with backoff.
    Transient(String),
}

pub(crate) async fn send(
    t: &AsyncSmtpTransport<Tokio1Executor>,
    m: Message,
) -> Result<(), SendError> {
    match t.send(m).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
        Err(e) => Err(SendError::Transient(e.to_string())),
    }
}

/// One mail, ready to build.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub to_name: String,
    pub to_addr: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The idempotency key (becomes the Message-ID's local part).
    pub key: String,
    /// The page the mail is about (its thread), if one.
    pub thread_page: Option<i64>,
    pub unsubscribe: Option<String>,
}

/// The host part of ids: the base URL's host.
pub(crate) fn id_domain(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(base_url);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    if host.is_empty() {
        "cairn.invalid".into()
    } else {
        host.to_owned()
    }
}

/// The thread root of a page's mails.
pub(crate) fn thread_id(page_id: i64, domain: &str) -> String {
    format!("<page-{page_id}@{domain}>")
}

pub(crate) fn build(cfg: &SmtpConfig, base_url: &str, m: &Mail) -> Result<Message> {
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|e| Error::BadRequest(format!("mail_from is not a mail address: {e}")))?;
    let to = Mailbox::new(
        Some(m.to_name.clone()).filter(|n| !n.is_empty()),
        m.to_addr.parse().map_err(|e| {
            Error::BadRequest(format!("{:?} is not a mail address: {e}", m.to_addr))
        })?,
    );
    let domain = id_domain(base_url);
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", m.key)));
    if let Some(p) = m.thread_page {
        let root = thread_id(p, &domain);
        b = b.in_reply_to(root.clone()).references(root);
    }
    if let Some(u) = &m.unsubscribe {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{u}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    b = b.raw_header(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".into(),
    ));
    b.multipart(
        MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(m.text.clone()),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(m.html.clone()),
            ),
    )
    .map_err(|e| Error::Internal(format!("building a mail: {e}")))
}

/// One notification as mail content (already checked against the
/// recipient's permissions).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// "Ann Example edited", "… commented on".
    pub sentence: String,
    pub page_title: String,
    pub space_name: String,
    pub url: String,
    pub message: String,
    /// Plain-text lines: a diff excerpt (`+`/`-` prefixed) or a comment.
    pub excerpt: Vec<String>,
}

fn entry_text(e: &Entry, out: &mut String) {
    out.push_str(&format!(
        "{} \"{}\" ({})\n{}\n",
        e.sentence, e.page_title, e.space_name, e.url
    ));
    if !e.message.is_empty() {
        out.push_str(&format!("Change comment: {}\n", e.message));
    }
    if !e.excerpt.is_empty() {
        out.push('\n');
        for l in &e.excerpt {
            out.push_str(&format!("    {l}\n"));
        }
    }
    out.push('\n');
}

fn entry_html(e: &Entry, out: &mut String) {
    out.push_str(&format!(
        "<div class=\"entry\"><p>{} <a href=\"{}\">{}</a> <span style=\"color:#666\">({})</span></p>",
        esc(&e.sentence),
        esc(&e.url),
        esc(&e.page_title),
        esc(&e.space_name)
    ));
    if !e.message.is_empty() {
        out.push_str(&format!(
            "<p><em>Change comment:</em> {}</p>",
            esc(&e.message)
        ));
    }
    if !e.excerpt.is_empty() {
        out.push_str("<pre style=\"background:#f4f5f7;padding:8px\">");
        for l in &e.excerpt {
            let colour = match l.chars().next() {
                Some('+') => "#216e4e",
                Some('-') => "#ae2a19",
                _ => "#172b4d",
            };
            out.push_str(&format!(
                "<span style=\"color:{colour}\">{}</span>\n",
                esc(l)
            ));
        }
        out.push_str("</pre>");
    }
    out.push_str("</div>");
}

/// The text and HTML bodies of a mail with `entries`, and its footer.
pub(crate) fn bodies(
    site: &str,
    entries: &[Entry],
    unsubscribe: Option<&str>,
    prefs_url: &str,
) -> (String, String) {
    let mut text = String::new();
    let mut html =
        String::from("<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#172b4d\">");
    for e in entries {
        entry_text(e, &mut text);
        entry_html(e, &mut html);
    }
    text.push_str("-- \n");
    html.push_str("<hr><p style=\"color:#666;font-size:smaller\">");
    if let Some(u) = unsubscribe {
        text.push_str(&format!("Stop watching this: {u}\n"));
        html.push_str(&format!("<a href=\"{}\">Stop watching this</a> · ", esc(u)));
    }
    text.push_str(&format!(
        "Notification settings: {prefs_url}\nSent by {site}.\n"
    ));
    html.push_str(&format!(
        "<a href=\"{}\">Notification settings</a> · Sent by {}.</p></body></html>",
        esc(prefs_url),
        esc(site)
    ));
    (text, html)
}

/// The bodies of a share's mail to an address without an account: no
/// settings to point to, so the footer says who sent it and why.
pub(crate) fn guest_bodies(site: &str, e: &Entry, sharer: &str) -> (String, String) {
    let mut text = String::new();
    let mut html =
        String::from("<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#172b4d\">");
    entry_text(e, &mut text);
    entry_html(e, &mut html);
    text.push_str(&format!(
        "-- \n{sharer} shared this page of {site} with this address. You will get no other mail unless someone shares again.\n"
    ));
    html.push_str(&format!(
        "<hr><p style=\"color:#666;font-size:smaller\">{} shared this page of {} with this address. You will get no other mail unless someone shares again.</p></body></html>",
        esc(sharer),
        esc(site)
    ));
    (text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_use_the_base_url_host() {
        assert_eq!(
            id_domain("https://wiki.example.com/ctx"),
            "wiki.example.com"
        );
        assert_eq!(id_domain("http://127.0.0.1:8090"), "127.0.0.1");
        assert_eq!(thread_id(7, "h"), "<page-7@h>");
    }

    #[test]
    fn user_text_is_escaped_in_html() {
        let e = Entry {
            sentence: "<b>Eve</b> edited".into(),
            page_title: "<script>x</script>".into(),
            space_name: "S&P".into(),
            url: "http://h/p?a=1&b=\"2\"".into(),
            message: "<img src=x>".into(),
            excerpt: vec!["+ <i>new</i>".into()],
        };
        let (text, html) = bodies("Cairn", &[e], Some("http://h/u/t"), "http://h/prefs");
        assert!(text.contains("<script>x</script>"));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>Eve"));
        assert!(html.contains("&lt;i&gt;new"));
        assert!(html.contains("Stop watching this"));
    }
}

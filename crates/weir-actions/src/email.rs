//! `send_email` (to, cc, bcc, subject, template, variables): a message is rendered
//! (from a tenant's email template, or from the step's subject and body), put in the tenant's
//! outbox, and sent over SMTP when `WEIR_SMTP_URL` is set (STARTTLS or TLS, with auth, by the
//! URL: `smtp://user:pass@host:587?tls=required`, `smtps://…:465`). Without SMTP the message
//! stays in the outbox (`GET /api/v1/outbox`): never silently dropped.

use std::sync::Arc;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Map, Value, json};
use weir_core::executor::ActionError;

use crate::invalid;
use weir_core::template::{RenderTrace, Secrets};
use weir_core::{Env, Rules, Template};
use weir_engine::{Action, ActionContext};
use weir_store::{Scope, Store};

/// Where mail goes.
pub struct Mailer {
    store: Arc<dyn Store>,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: String,
}

/// Renders a stored template's text with the step's variables. For HTML every string
/// variable is escaped first.
fn render(text: &str, variables: &Value, html: bool) -> Result<String, ActionError> {
    let template = Template::parse(text).map_err(|e| invalid(format!("the template: {e}")))?;
    let vars = if html {
        escaped(variables)
    } else {
        variables.clone()
    };
    let rules = Rules::default();
    let env = Env::new(chrono::Utc::now(), &rules);
    let out = template.render(&vars, &env, Secrets::Redact, &mut RenderTrace::default());
    Ok(match out {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn escaped(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;"),
        ),
        Value::Array(items) => Value::Array(items.iter().map(escaped).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), escaped(v))).collect()),
        other => other.clone(),
    }
}

/// A list of addresses from a string (comma-separated) or an array; each checked.
fn addresses(input: &Value, field: &str) -> Result<Vec<String>, ActionError> {
    let items: Vec<String> = match input.get(field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(|a| a.trim().to_owned()).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(|s| s.trim().to_owned()))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(format!("{field} is a list of addresses")))?,
        Some(_) => return Err(invalid(format!("{field} is an address or a list of them"))),
    };
    let items: Vec<String> = items.into_iter().filter(|a| !a.is_empty()).collect();
    for a in &items {
        a.parse::<Mailbox>()
            .map_err(|e| invalid(format!("{field}: '{a}' is not an email address: {e}")))?;
    }
    if items.len() > 100 {
        return Err(invalid(format!("{field} has more than 100 addresses")));
    }
    Ok(items)
}

impl Mailer {
    /// `smtp_url` like `smtp://user:pass@host:587?tls=required`; `from` the default sender.
    pub fn new(
        store: Arc<dyn Store>,
        smtp_url: Option<&str>,
        from: Option<&str>,
    ) -> Result<Mailer, String> {
        let smtp = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("WEIR_SMTP_URL is not an SMTP URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build(),
            ),
            None => None,
        };
        let from = from.unwrap_or("weir@localhost").to_owned();
        from.parse::<Mailbox>()
            .map_err(|e| format!("WEIR_SMTP_FROM '{from}' is not an address: {e}"))?;
        Ok(Mailer { store, smtp, from })
    }

    /// A stored template's subject and text, rendered with `variables`.
    pub async fn render_template(
        &self,
        scope: &Scope,
        name: &str,
        variables: &Value,
    ) -> Result<(String, String), ActionError> {
        let t = self.template(scope, name).await?;
        let subject = render(t["subject"].as_str().unwrap_or_default(), variables, false)?;
        let text = render(t["text"].as_str().unwrap_or_default(), variables, false)?;
        Ok((subject, text))
    }

    async fn template(&self, scope: &Scope, name: &str) -> Result<Value, ActionError> {
        self.store
            .email_templates(scope, Some(name))
            .await
            .map_err(|e| ActionError::retryable(format!("the template store: {e}")))?
            .pop()
            .ok_or_else(|| invalid(format!("there is no email template '{name}'")))
    }

    /// Builds the message a `send_email` config describes: `{from, to, cc, bcc, reply_to,
    /// subject, text, html}`.
    pub async fn compose(&self, scope: &Scope, input: &Value) -> Result<Value, ActionError> {
        let to = addresses(input, "to")?;
        if to.is_empty() {
            return Err(invalid("the config needs 'to'"));
        }
        let variables = input.get("variables").cloned().unwrap_or(json!({}));
        let (subject, text, html) = match input.get("template").and_then(Value::as_str) {
            Some(name) => {
                let t = self.template(scope, name).await?;
                let part = |field: &str, html: bool| -> Result<Option<String>, ActionError> {
                    t[field]
                        .as_str()
                        .map(|s| render(s, &variables, html))
                        .transpose()
                };
                let subject = match input.get("subject").and_then(Value::as_str) {
                    Some(s) => s.to_owned(),
                    None => part("subject", false)?.unwrap_or_default(),
                };
                (subject, part("text", false)?, part("html", true)?)
            }
            None => (
                input
                    .get("subject")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("the config needs 'subject' or 'template'"))?
                    .to_owned(),
                input.get("body").and_then(Value::as_str).map(str::to_owned),
                input.get("html").and_then(Value::as_str).map(str::to_owned),
            ),
        };
        if subject.len() > 998 || subject.contains(['\r', '\n']) {
            return Err(invalid("the subject is one line of at most 998 characters"));
        }
        let from = match input.get("from").and_then(Value::as_str) {
            Some(f) => {
                f.parse::<Mailbox>()
                    .map_err(|e| invalid(format!("from: '{f}' is not an address: {e}")))?;
                f.to_owned()
            }
            None => self.from.clone(),
        };
        let mut message = Map::new();
        message.insert("from".into(), json!(from));
        message.insert("to".into(), json!(to));
        message.insert("cc".into(), json!(addresses(input, "cc")?));
        message.insert("bcc".into(), json!(addresses(input, "bcc")?));
        if let Some(r) = input.get("reply_to").and_then(Value::as_str) {
            r.parse::<Mailbox>()
                .map_err(|e| invalid(format!("reply_to: '{r}' is not an address: {e}")))?;
            message.insert("reply_to".into(), json!(r));
        }
        message.insert("subject".into(), json!(subject));
        message.insert("text".into(), json!(text.unwrap_or_default()));
        message.insert("html".into(), json!(html));
        Ok(Value::Object(message))
    }

    /// Keeps a composed message in the outbox and sends it when SMTP is set. A repeated
    /// attempt of the same step does not send twice what was sent.
    pub async fn deliver(&self, ctx: &ActionContext, message: Value) -> Result<Value, ActionError> {
        let status = if self.smtp.is_some() {
            "sending"
        } else {
            "outbox"
        };
        // The outbox is shown by the API: it keeps the message without secrets; the SMTP
        // server gets it whole.
        let mut kept = message.clone();
        ctx.secrets.scrub(&mut kept);
        let (row, _) = self
            .store
            .add_mail(
                &ctx.scope,
                &kept,
                status,
                Some(&ctx.execution_id),
                Some(ctx.operation_key()),
            )
            .await
            .map_err(|e| ActionError::retryable(format!("the outbox: {e}")))?;
        let id = row["id"].as_str().unwrap_or_default().to_owned();
        let summary = |status: &str| json!({ "outbox_id": id, "status": status, "to": message["to"], "subject": message["subject"] });
        let Some(smtp) = &self.smtp else {
            return Ok(summary("outbox"));
        };
        if row["status"] == "sent" {
            return Ok(summary("sent"));
        }
        let email = build(&message).map_err(invalid)?;
        match smtp.send(email).await {
            Ok(_) => {
                // Not marked sent, a repeated attempt would send it again: say so.
                if let Err(e) = self
                    .store
                    .set_mail_status(&ctx.scope, &id, "sent", None)
                    .await
                {
                    tracing::error!("outbox {id}: sent, but not marked sent: {e}");
                }
                Ok(summary("sent"))
            }
            Err(e) => {
                let why = format!("the SMTP server: {e}");
                let _ = self
                    .store
                    .set_mail_status(&ctx.scope, &id, "failed", Some(&why))
                    .await;
                let retry = e.is_transient() || e.is_timeout() || !e.is_permanent();
                Err(match retry {
                    true => ActionError::retryable(why).with_class("network"),
                    false => ActionError::permanent(why),
                })
            }
        }
    }
}

fn build(m: &Value) -> Result<Message, String> {
    let parse = |a: &Value| -> Result<Mailbox, String> {
        a.as_str()
            .unwrap_or_default()
            .parse::<Mailbox>()
            .map_err(|e| e.to_string())
    };
    let mut b = Message::builder()
        .from(parse(&m["from"])?)
        .subject(m["subject"].as_str().unwrap_or_default());
    for (field, list) in [("to", &m["to"]), ("cc", &m["cc"]), ("bcc", &m["bcc"])] {
        for a in list.as_array().into_iter().flatten() {
            let mailbox = parse(a)?;
            b = match field {
                "to" => b.to(mailbox),
                "cc" => b.cc(mailbox),
                _ => b.bcc(mailbox),
            };
        }
    }
    if m["reply_to"].is_string() {
        b = b.reply_to(parse(&m["reply_to"])?);
    }
    let text = m["text"].as_str().unwrap_or_default().to_owned();
    let built = match m["html"].as_str() {
        Some(html) => b.multipart(MultiPart::alternative_plain_html(text, html.to_owned())),
        None => b.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text),
        ),
    };
    built.map_err(|e| e.to_string())
}

/// The `send_email` action.
pub struct SendEmail(pub Arc<Mailer>);

#[async_trait]
impl Action for SendEmail {
    async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError> {
        let message = self.0.compose(&ctx.scope, &input).await?;
        self.0.deliver(ctx, message).await
    }
}

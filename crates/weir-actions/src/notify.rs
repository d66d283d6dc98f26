//! `notify` and `send_notification`: tell people on a channel.
//! `in_app` stores a notification per recipient (`GET /api/v1/notifications`); `email` sends
//! mail through the mailer; `webhook` posts the notification to each recipient URL through
//! the guarded HTTP action. A recipient is a user's id (which stands for its email), an email
//! address, a URL (webhook), or `role:NAME`, which stands for the enabled members of the team
//! NAME of the run's environment and the enabled users whose role is NAME. A recipient no
//! channel can reach (a role nobody has, a name that is not an address) gets an in-app
//! notification, so nothing is dropped.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use weir_core::executor::ActionError;
use weir_engine::{Action, ActionContext};
use weir_store::{NewNotification, Store};

use crate::email::Mailer;
use crate::http::HttpAction;
use crate::invalid;

pub struct Notify {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<Mailer>,
    pub http: Arc<HttpAction>,
    /// `send_notification`'s shape: one `recipient` and `notification_type`.
    pub seed_004: bool,
}

impl Notify {
    /// `role:NAME` → the emails of the enabled members of team NAME and of the enabled users
    /// with the role NAME, among those who work in the run's environment (or `role:NAME`
    /// itself when that is nobody); a user's id → its email; everything else as it is.
    async fn expand(
        &self,
        ctx: &ActionContext,
        recipients: &[String],
    ) -> Result<Vec<String>, ActionError> {
        // Roles and user ids need the tenant's users; plain addresses and URLs do not.
        let needs_users = recipients
            .iter()
            .any(|r| r.starts_with("role:") || (!r.contains('@') && !r.contains("://")));
        let users = match needs_users {
            true => self
                .store
                .users(&ctx.scope.tenant)
                .await
                .map_err(|e| ActionError::retryable(format!("the user store: {e}")))?,
            false => Vec::new(),
        };
        let env = ctx.scope.environment.as_str();
        let live = || {
            users
                .iter()
                .filter(|u| u.disabled_ms.is_none() && u.works_in(env))
        };
        let mut out: Vec<String> = Vec::new();
        for r in recipients {
            match r.strip_prefix("role:") {
                Some(role) => {
                    let team = self
                        .store
                        .team(&ctx.scope, role)
                        .await
                        .map_err(|e| ActionError::retryable(format!("the team store: {e}")))?;
                    let members = team.map(|t| t.members).unwrap_or_default();
                    let holders: Vec<String> = members
                        .iter()
                        .filter(|m| m.disabled_ms.is_none())
                        .map(|m| m.email.clone())
                        .chain(live().filter(|u| u.role == role).map(|u| u.email.clone()))
                        .collect();
                    if holders.is_empty() {
                        out.push(r.clone());
                    }
                    out.extend(holders);
                }
                // A user's id stands for the user's email.
                None => match live().find(|u| u.id == *r) {
                    Some(u) => out.push(u.email.clone()),
                    None => out.push(r.clone()),
                },
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|r| seen.insert(r.clone()));
        Ok(out)
    }
}

#[async_trait]
impl Action for Notify {
    async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError> {
        let channel_field = if self.seed_004 {
            "notification_type"
        } else {
            "channel"
        };
        let channel = input
            .get(channel_field)
            .and_then(Value::as_str)
            .unwrap_or("in_app")
            .to_owned();
        let channel = if channel == "push" {
            "in_app".to_owned()
        } else {
            channel
        };
        let mut recipients: Vec<String> = Vec::new();
        if let Some(list) = input.get("recipients").and_then(Value::as_array) {
            for r in list {
                recipients.push(
                    r.as_str()
                        .ok_or_else(|| invalid("recipients are strings"))?
                        .trim()
                        .to_owned(),
                );
            }
        }
        if let Some(r) = input.get("recipient").and_then(Value::as_str) {
            recipients.push(r.trim().to_owned());
        }
        recipients.retain(|r| !r.is_empty() && r.len() <= 320);
        if recipients.is_empty() {
            return Err(invalid("the config needs 'recipients' or 'recipient'"));
        }
        let mut subject = input
            .get("subject")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let variables = input.get("variables").cloned().unwrap_or(json!({}));
        let message = match (
            input.get("message").and_then(Value::as_str),
            input.get("template"),
        ) {
            (Some(m), _) => m.to_owned(),
            (None, Some(Value::String(t))) => {
                let (s, text) = self
                    .mailer
                    .render_template(&ctx.scope, t, &variables)
                    .await?;
                subject = subject.or(Some(s));
                text
            }
            _ => return Err(invalid("the config needs 'message' or 'template'")),
        };
        let link = input.get("link").and_then(Value::as_str).map(str::to_owned);
        let recipients = self.expand(ctx, &recipients).await?;
        let mut in_app: Vec<String> = Vec::new();
        let mut delivered: Vec<Value> = Vec::new();
        match channel.as_str() {
            "in_app" => in_app = recipients,
            "email" => {
                let (emails, rest): (Vec<String>, Vec<String>) =
                    recipients.into_iter().partition(|r| r.contains('@'));
                in_app = rest;
                if !emails.is_empty() {
                    let mail = json!({
                        "to": emails,
                        "subject": subject.clone().unwrap_or_else(|| message.chars().take(80).collect()),
                        "body": match &link { Some(l) => format!("{message}\n\n{l}"), None => message.clone() },
                    });
                    let message = self.mailer.compose(&ctx.scope, &mail).await?;
                    delivered.push(self.mailer.deliver(ctx, message).await?);
                }
            }
            "webhook" => {
                for url in &recipients {
                    let request = json!({
                        "url": url, "method": "POST",
                        "body": {"recipient": url, "subject": subject, "message": message, "link": link,
                                 "execution_id": ctx.execution_id},
                    });
                    let answer = self.http.perform(ctx, request).await?;
                    delivered.push(json!({"url": url, "status": answer["status"]}));
                }
            }
            other => {
                return Err(invalid(format!(
                    "the channel '{other}' has no built-in sender (in_app, email and webhook do); register a connector for it"
                )));
            }
        }
        let rows: Vec<NewNotification> = in_app
            .iter()
            .map(|r| NewNotification {
                // Kept and shown by the API: no secret goes in.
                recipient: ctx.secrets.scrub_text(r),
                channel: "in_app".into(),
                subject: subject.as_deref().map(|s| ctx.secrets.scrub_text(s)),
                message: ctx.secrets.scrub_text(&message),
                link: link.as_deref().map(|l| ctx.secrets.scrub_text(l)),
                execution_id: Some(ctx.execution_id.clone()),
                op_key: Some(ctx.operation_key().to_owned()),
            })
            .collect();
        let stored = match rows.is_empty() {
            true => Vec::new(),
            false => self
                .store
                .add_notifications(&ctx.scope, &rows)
                .await
                .map_err(|e| ActionError::retryable(format!("the notification store: {e}")))?,
        };
        Ok(json!({ "channel": channel, "notifications": stored, "delivered": delivered }))
    }
}

//! User JavaScript in a sandbox: QuickJS (rquickjs, compiled in; no V8 download) with a
//! memory cap, a wall-clock deadline (an interrupt handler), a stack limit, and no host
//! access at all: the context has the language's intrinsics only, so there is no filesystem,
//! network, environment, process, module loader or timer. Every run gets a fresh context, so
//! nothing one run does to `Object.prototype` reaches the next; runtimes are pooled warm, and
//! one that was interrupted or ran out of memory is dropped rather than reused.
//!
//! A script is the body of a function of `input` that `return`s a JSON value.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rquickjs::{Context, Ctx, Function, Runtime};
use serde_json::Value;
use weir_core::executor::ActionError;

/// The stack a script may use.
const MAX_STACK_BYTES: usize = 512 * 1024;
/// The most a script's answer may be, as JSON.
const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// Warm runtimes kept.
const POOL: usize = 8;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(1),
            memory_bytes: 32 << 20,
        }
    }
}

#[derive(Default)]
pub struct Sandbox {
    pool: Mutex<Vec<Runtime>>,
}

/// How a run ended badly.
enum Failure {
    Timeout,
    Memory,
    Script(String),
    Other(String),
}

fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> Failure {
    if !e.is_exception() {
        return match e.to_string() {
            m if m.contains("out of memory") || m.contains("Allocation") => Failure::Memory,
            m => Failure::Other(m),
        };
    }
    let thrown = ctx.catch();
    let text = match thrown.as_object() {
        Some(o) => {
            let name: Option<String> = o.get("name").ok();
            let message: Option<String> = o.get("message").ok();
            match (name, message) {
                (Some(n), Some(m)) => format!("{n}: {m}"),
                (None, Some(m)) => m,
                _ => ctx
                    .json_stringify(thrown.clone())
                    .ok()
                    .flatten()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_else(|| "an exception".into()),
            }
        }
        None => thrown
            .as_string()
            .and_then(|s| s.to_string().ok())
            .or_else(|| {
                ctx.json_stringify(thrown.clone())
                    .ok()
                    .flatten()
                    .and_then(|s| s.to_string().ok())
            })
            .unwrap_or_else(|| "an exception".into()),
    };
    if text.contains("out of memory") {
        Failure::Memory
    } else if text.contains("interrupted") {
        Failure::Timeout
    } else {
        Failure::Script(text)
    }
}

impl Sandbox {
    pub fn new() -> Arc<Sandbox> {
        Arc::new(Sandbox::default())
    }

    /// Runs `body` as `function (input) { body }` on a blocking thread.
    pub async fn run(
        self: &Arc<Self>,
        body: String,
        input: Value,
        limits: Limits,
    ) -> Result<Value, ActionError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.run_blocking(&body, &input, limits))
            .await
            .map_err(|_| ActionError::permanent("the script's thread stopped"))?
    }

    pub fn run_blocking(
        &self,
        body: &str,
        input: &Value,
        limits: Limits,
    ) -> Result<Value, ActionError> {
        let runtime = match self.pool.lock().expect("script pool").pop() {
            Some(r) => r,
            None => Runtime::new().map_err(|e| {
                ActionError::retryable(format!("cannot start a script runtime: {e}"))
            })?,
        };
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(MAX_STACK_BYTES);
        let deadline = Instant::now() + limits.timeout;
        let interrupted = Arc::new(AtomicBool::new(false));
        let flag = interrupted.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let over = Instant::now() >= deadline;
            if over {
                flag.store(true, Ordering::Relaxed);
            }
            over
        })));
        let input_json = input.to_string();
        let outcome: Result<Option<String>, Failure> = match Context::full(&runtime) {
            Err(e) => Err(Failure::Other(e.to_string())),
            Ok(context) => context.with(|ctx| {
                let source = format!("(function (input) {{\n{body}\n}})");
                let f: Function = ctx.eval(source).map_err(|e| describe(&ctx, e))?;
                let arg = ctx.json_parse(input_json).map_err(|e| describe(&ctx, e))?;
                let out: rquickjs::Value = f.call((arg,)).map_err(|e| describe(&ctx, e))?;
                if out.is_undefined() {
                    return Ok(None);
                }
                if out.is_promise() || out.is_function() {
                    return Err(Failure::Script(
                        "it returned a promise or a function; a script returns a JSON value (nothing runs after it returns)".into(),
                    ));
                }
                let text = ctx.json_stringify(out).map_err(|e| describe(&ctx, e))?;
                Ok(match text {
                    Some(s) => Some(s.to_string().map_err(|e| Failure::Other(e.to_string()))?),
                    None => None,
                })
            }),
        };
        runtime.set_interrupt_handler(None);
        let interrupted = interrupted.load(Ordering::Relaxed);
        let spent = matches!(outcome, Err(Failure::Memory | Failure::Timeout));
        if !interrupted && !spent {
            runtime.run_gc();
            let mut pool = self.pool.lock().expect("script pool");
            if pool.len() < POOL {
                pool.push(runtime);
            }
        }
        let seconds = limits.timeout.as_secs_f64();
        let outcome = match outcome {
            Err(_) if interrupted => Err(Failure::Timeout),
            other => other,
        };
        match outcome {
            Ok(None) => Ok(Value::Null),
            Ok(Some(text)) if text.len() > MAX_OUTPUT_BYTES => Err(ActionError::permanent(
                format!("the script returned more than {MAX_OUTPUT_BYTES} bytes of JSON"),
            )),
            Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| {
                ActionError::permanent(format!("the script's answer is not JSON: {e}"))
            }),
            Err(Failure::Timeout) => Err(ActionError::permanent(format!(
                "the script ran longer than its limit of {seconds} s and was stopped"
            ))
            .with_class("timeout")),
            Err(Failure::Memory) => Err(ActionError::permanent(format!(
                "the script used more than its memory limit of {} MiB and was stopped",
                limits.memory_bytes >> 20
            ))),
            Err(Failure::Script(m))
                if m.contains("call stack size") || m.contains("stack overflow") =>
            {
                Err(ActionError::permanent(format!(
                    "the script recursed deeper than its stack limit of {} KiB: {m}",
                    MAX_STACK_BYTES >> 10
                )))
            }
            Err(Failure::Script(m)) => {
                Err(ActionError::permanent(format!("the script failed: {m}")))
            }
            Err(Failure::Other(m)) => {
                Err(ActionError::permanent(format!("the script failed: {m}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(body: &str) -> Result<Value, ActionError> {
        let sandbox = Sandbox::default();
        sandbox.run_blocking(
            body,
            &json!({"n": 2, "items": [1, 2, 3]}),
            Limits::default(),
        )
    }

    #[test]
    fn a_script_returns_json_from_its_input() {
        assert_eq!(
            run("return {sum: input.items.reduce((a, b) => a + b, 0) * input.n};").unwrap(),
            json!({"sum": 12})
        );
        assert_eq!(run("let x = 1;").unwrap(), Value::Null);
    }

    #[test]
    fn hostile_scripts_are_contained() {
        let limits = Limits {
            timeout: Duration::from_millis(200),
            memory_bytes: 16 << 20,
        };
        let sandbox = Sandbox::default();
        let started = Instant::now();
        let e = sandbox
            .run_blocking("while (true) {}", &json!({}), limits)
            .unwrap_err();
        assert!(e.message.contains("longer than its limit"), "{}", e.message);
        // Stopped within its limit plus 100 ms (the bound).
        assert!(
            started.elapsed() < Duration::from_millis(200 + 100),
            "{:?}",
            started.elapsed()
        );
        let e = sandbox
            .run_blocking(
                "let a = []; while (true) { a.push('x'.repeat(1 << 16)); }",
                &json!({}),
                limits,
            )
            .unwrap_err();
        assert!(e.message.contains("memory limit"), "{}", e.message);
        let e = sandbox
            .run_blocking(
                "function f(n) { return f(n + 1) + 1; } return f(0);",
                &json!({}),
                limits,
            )
            .unwrap_err();
        assert!(e.message.contains("stack limit"), "{}", e.message);
        for (body, want) in [
            (
                "return ({}).constructor.constructor('return process')().env;",
                "process is not defined",
            ),
            (
                "return globalThis.constructor.constructor('return process')().env;",
                "process is not defined",
            ),
            (
                "return this.constructor.constructor('return process')().env;",
                "the script failed",
            ),
            ("return import('fs');", "returned a promise"),
            ("return (async () => 1)();", "returned a promise"),
            ("return require('fs');", "require is not defined"),
            (
                "return fetch('http://169.254.169.254/');",
                "fetch is not defined",
            ),
            ("return Deno.env;", "Deno is not defined"),
            ("return process.env;", "process is not defined"),
            (
                "return setTimeout(() => 1, 10);",
                "setTimeout is not defined",
            ),
        ] {
            let e = sandbox.run_blocking(body, &json!({}), limits).unwrap_err();
            assert!(e.message.contains(want), "{body}: {}", e.message);
        }
        let e = sandbox
            .run_blocking("import fs from 'fs';", &json!({}), limits)
            .unwrap_err();
        assert!(e.message.contains("SyntaxError"), "{}", e.message);
        // Prototype pollution stays in its run.
        sandbox
            .run_blocking(
                "Object.prototype.polluted = 'yes'; return 1;",
                &json!({}),
                limits,
            )
            .unwrap();
        assert_eq!(
            sandbox
                .run_blocking("return ({}).polluted === undefined;", &json!({}), limits)
                .unwrap(),
            json!(true)
        );
    }
}

/// `code`, `transform` and `transform_data`.
pub mod actions {
    use std::sync::Arc;

    use async_trait::async_trait;
    use serde_json::{Map, Value, json};
    use weir_core::executor::ActionError;
    use weir_engine::{Action, ActionContext};

    use super::{Limits, Sandbox};
    use crate::invalid;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        Code,
        Transform,
        TransformData,
    }

    pub struct Script {
        pub sandbox: Arc<Sandbox>,
        pub kind: Kind,
    }

    /// The limits a config asks for: `timeout` (at most 30 s) and `memory_limit_mb` (at most
    /// 512).
    fn limits(input: &Value) -> Result<Limits, ActionError> {
        let mut l = Limits::default();
        if let Some(t) = input.get("timeout").filter(|t| !t.is_null()) {
            let d =
                weir_core::Duration::from_value(t).map_err(|e| invalid(format!("timeout: {e}")))?;
            l.timeout = std::time::Duration::from_millis(d.as_millis().clamp(1, 30_000));
        }
        if let Some(mb) = input.get("memory_limit_mb").and_then(Value::as_u64) {
            l.memory_bytes = (mb.clamp(1, 512) as usize) << 20;
        }
        Ok(l)
    }

    /// A JavaScript identifier a mapped input can be bound to.
    fn identifier(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            && !matches!(name, "input" | "arguments" | "eval" | "this")
    }

    fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
        path.split('.')
            .filter(|p| !p.is_empty())
            .try_fold(v, |v, key| match v {
                Value::Object(m) => m.get(key),
                Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            })
    }

    impl Script {
        async fn javascript(
            &self,
            ctx: &ActionContext,
            input: &Value,
        ) -> Result<Value, ActionError> {
            if let Some(lang) = input.get("language").and_then(Value::as_str)
                && lang != "javascript"
            {
                return Err(invalid(format!(
                    "the language '{lang}' is not supported (javascript is)"
                )));
            }
            let body = input
                .get("code")
                .or_else(|| input.get("source"))
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("the config needs 'code'"))?;
            // The script sees the run's context (which never holds a secret), or the input
            // the config gives it.
            let data = match input.get("input") {
                Some(v) if !v.is_null() => v.clone(),
                _ => ctx.context.clone(),
            };
            self.sandbox
                .run(body.to_owned(), data, limits(input)?)
                .await
        }

        /// `expression` over the `input_mapping` names; `output_mapping` picks from
        /// `{"result": …}`.
        async fn transform_data(&self, input: &Value) -> Result<Value, ActionError> {
            let expression = input
                .get("expression")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("the config needs 'expression'"))?;
            let mapping = input.get("input_mapping").cloned().unwrap_or(json!({}));
            let Value::Object(mapped) = &mapping else {
                return Err(invalid("input_mapping is an object of names"));
            };
            let mut body = String::new();
            for name in mapped.keys() {
                if !identifier(name) {
                    return Err(invalid(format!(
                        "input_mapping: '{name}' is not a JavaScript name"
                    )));
                }
                body.push_str(&format!(
                    "const {name} = input[{}];\n",
                    Value::String(name.clone())
                ));
            }
            body.push_str(&format!("return ({expression}\n);"));
            let result = self
                .sandbox
                .run(body, mapping.clone(), limits(input)?)
                .await?;
            let scope = json!({ "result": result });
            Ok(
                match input.get("output_mapping").and_then(Value::as_object) {
                    Some(out) => Value::Object(
                        out.iter()
                            .map(|(k, path)| {
                                let v = path.as_str().and_then(|p| get_path(&scope, p)).cloned();
                                (k.clone(), v.unwrap_or(Value::Null))
                            })
                            .collect::<Map<String, Value>>(),
                    ),
                    None => scope,
                },
            )
        }

        /// Declarative `map` (`fields`: output name → path in each item) and `filter`
        /// (`where`: a condition on each item), without code.
        fn declarative(&self, input: &Value) -> Result<Value, ActionError> {
            let items = input
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("'items' is a list (like \"{{order.items}}\")"))?;
            match input["operation"].as_str() {
                Some("map") => {
                    let fields =
                        input
                            .get("fields")
                            .and_then(Value::as_object)
                            .ok_or_else(|| {
                                invalid("map needs 'fields': output name → path in each item")
                            })?;
                    let out: Vec<Value> = items
                        .iter()
                        .map(|item| {
                            Value::Object(
                                fields
                                    .iter()
                                    .map(|(k, p)| {
                                        let v = p.as_str().and_then(|p| get_path(item, p)).cloned();
                                        (k.clone(), v.unwrap_or(Value::Null))
                                    })
                                    .collect(),
                            )
                        })
                        .collect();
                    Ok(json!({ "items": out, "count": out.len() }))
                }
                Some("filter") => {
                    let rule = weir_core::read_rule(
                        &json!({"rule_id": "where", "conditions": input["where"]}),
                    )
                    .map_err(|d| {
                        invalid(format!(
                            "where: {}",
                            d.first().map(|d| d.message.clone()).unwrap_or_default()
                        ))
                    })?;
                    let rules = weir_core::Rules::default();
                    let env = weir_core::Env::new(chrono::Utc::now(), &rules);
                    let out: Vec<Value> = items
                        .iter()
                        .filter(|item| rule.condition.eval(item, &env))
                        .cloned()
                        .collect();
                    Ok(json!({ "items": out, "count": out.len() }))
                }
                other => Err(invalid(format!(
                    "operation {other:?} is not map or filter (for reduce or aggregate, give 'code')"
                ))),
            }
        }
    }

    #[async_trait]
    impl Action for Script {
        async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError> {
            match self.kind {
                Kind::Code => self.javascript(ctx, &input).await,
                Kind::TransformData => self.transform_data(&input).await,
                Kind::Transform => {
                    if input.get("code").is_some() || input.get("source").is_some() {
                        self.javascript(ctx, &input).await
                    } else if input.get("operation").is_some() {
                        self.declarative(&input)
                    } else {
                        // Templates only: the executor rendered them already.
                        Ok(input.get("output").cloned().unwrap_or(Value::Null))
                    }
                }
            }
        }
    }
}

//! The figures issue #5 asks for: HTTP-action throughput against a local server, and the
//! latency of a small JavaScript `transform` with a warm runtime pool.
//! Run with `cargo bench -p weir-actions`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weir_actions::http::HttpAction;
use weir_actions::script::{Limits, Sandbox};
use weir_actions::{AllowList, Guard};
use weir_engine::{Action, ActionContext};
use weir_store::Scope;

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering every request with a small JSON body.
async fn local_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut have = 0;
                loop {
                    let n = match s.read(&mut buf[have..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    have += n;
                    // One request: its head, then Content-Length bytes of body.
                    while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        let total = end + 4 + len;
                        if have < total {
                            break;
                        }
                        buf.copy_within(total..have, 0);
                        have -= total;
                        let body = br#"{"ok":true,"id":"sub_123"}"#;
                        let mut answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        answer.extend_from_slice(body);
                        if s.write_all(&answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

fn ctx() -> ActionContext {
    ActionContext {
        scope: Scope::new("bench", "production"),
        execution_id: "exec".into(),
        step_id: "step".into(),
        idempotency_key: "exec:step:0:1".into(),
        traceparent: None,
        secrets: Arc::default(),
        context: json!({}),
    }
}

fn benches(c: &mut Criterion) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let port = runtime.block_on(local_server());
    let guard = Guard::new(AllowList::parse("127.0.0.1").unwrap());
    let http = Arc::new(HttpAction::new(guard).unwrap());
    let input = json!({"url": format!("http://127.0.0.1:{port}/subscriptions"), "method": "POST",
        "headers": {"X-Source": "weir"}, "body": {"customer_id": "cust_1", "plan_id": "plan_starter"}});

    // Throughput with 32 requests in flight, as 32 runs acting at once would have.
    let total = 20_000;
    let started = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (http, input) = (http.clone(), input.clone());
            tasks.push(tokio::spawn(async move {
                let ctx = ctx();
                for _ in 0..total / 32 {
                    http.perform(&ctx, input.clone()).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "http_action throughput: {} requests in {secs:.2} s = {:.0} requests/s (32 in flight, keep-alive, loopback)",
        total / 32 * 32,
        (total / 32 * 32) as f64 / secs
    );

    let mut group = c.benchmark_group("http_action");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one POST, keep-alive", |b| {
        let ctx = ctx();
        b.to_async(&runtime)
            .iter(|| async { black_box(http.perform(&ctx, input.clone()).await.unwrap()) });
    });
    group.finish();

    let sandbox = Sandbox::new();
    let data = json!({"items": [{"sku": "a", "price": 10, "quantity": 2}, {"sku": "b", "price": 5, "quantity": 3}]});
    let body = "return input.items.map(i => ({ sku: i.sku, line_total: i.price * i.quantity }));";
    let limits = Limits {
        timeout: Duration::from_secs(1),
        memory_bytes: 32 << 20,
    };
    let mut group = c.benchmark_group("js_transform");
    group.bench_function("small map, warm pool, on the calling thread", |b| {
        b.iter(|| black_box(sandbox.run_blocking(body, &data, limits).unwrap()));
    });
    group.bench_function("small map, warm pool, via spawn_blocking", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                sandbox
                    .run(body.to_owned(), data.clone(), limits)
                    .await
                    .unwrap(),
            )
        });
    });
    group.finish();
}

criterion_group! {
    name = group;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(50);
    targets = benches
}
criterion_main!(group);

//! Traces exported over OTLP/HTTP (JSON) to `WEIR_OTLP_ENDPOINT`: the spans the engine makes
//! (`weir_engine::traces`) go to the OpenTelemetry SDK's batch processor, whose thread sends
//! them in batches. A full queue drops spans rather than slowing runs.

use std::borrow::Cow;
use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SpanData, SpanEvents, SpanLinks, SpanProcessor,
};
use weir_engine::traces::{Attr, Span};

/// The endpoint's traces URL: a base (`http://collector:4318`) gets `/v1/traces`, as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` does; a URL with a path is taken as it is.
pub fn traces_url(endpoint: &str) -> Result<String, String> {
    let url = url::Url::parse(endpoint.trim())
        .map_err(|e| format!("WEIR_OTLP_ENDPOINT '{endpoint}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "WEIR_OTLP_ENDPOINT '{endpoint}' is not an http(s) URL like http://127.0.0.1:4318"
        ));
    }
    Ok(match url.path() {
        "" | "/" => format!("{}/v1/traces", url.as_str().trim_end_matches('/')),
        _ => url.to_string(),
    })
}

/// Exports the engine's spans to `url` until [`Exporter::shutdown`].
pub struct Exporter {
    processor: std::sync::Arc<BatchSpanProcessor>,
}

impl Exporter {
    /// Starts the exporter (its own thread) and hands the engine's spans to it.
    pub fn start(url: String) -> Result<Exporter, String> {
        // The exporter's blocking HTTP client must not be made inside the async runtime.
        let processor = std::thread::spawn(move || -> Result<BatchSpanProcessor, String> {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpJson)
                .with_endpoint(url)
                .with_timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| format!("cannot set up the OTLP exporter: {e}"))?;
            let mut processor = BatchSpanProcessor::builder(exporter)
                .with_batch_config(
                    BatchConfigBuilder::default()
                        .with_max_queue_size(65_536)
                        .with_max_export_batch_size(512)
                        .with_scheduled_delay(Duration::from_secs(1))
                        .build(),
                )
                .build();
            processor.set_resource(
                &Resource::builder()
                    .with_service_name("weir")
                    .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                    .build(),
            );
            Ok(processor)
        })
        .join()
        .map_err(|_| "cannot set up the OTLP exporter".to_owned())??;
        let processor = std::sync::Arc::new(processor);
        let sink = processor.clone();
        let scope = InstrumentationScope::builder("weir")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        weir_engine::traces::install(move |span| sink.on_end(data(span, &scope)));
        Ok(Exporter { processor })
    }

    /// Sends what is queued and stops.
    pub fn shutdown(self) {
        if let Err(e) = self.processor.shutdown() {
            tracing::warn!("traces: the last spans may not have been sent: {e}");
        }
    }
}

fn data(span: Span, scope: &InstrumentationScope) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            TraceId::from_bytes(span.trace_id),
            SpanId::from_bytes(span.span_id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: span
            .parent
            .map_or(SpanId::INVALID, |(p, _)| SpanId::from_bytes(p)),
        parent_span_is_remote: span.parent.is_some_and(|(_, remote)| remote),
        span_kind: if span.client {
            SpanKind::Client
        } else {
            SpanKind::Internal
        },
        name: Cow::Owned(span.name),
        start_time: span.start,
        end_time: span.end,
        attributes: span
            .attributes
            .into_iter()
            .map(|(k, v)| match v {
                Attr::Text(t) => KeyValue::new(k, t),
                Attr::Int(n) => KeyValue::new(k, n),
            })
            .collect(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: match span.error {
            Some(e) => Status::error(e),
            None => Status::Unset,
        },
        instrumentation_scope: scope.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_the_traces_path_when_they_have_none() {
        assert_eq!(
            traces_url("http://127.0.0.1:4318").unwrap(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/").unwrap(),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("https://otel.example.com/custom/traces").unwrap(),
            "https://otel.example.com/custom/traces"
        );
        assert!(traces_url("collector:4318").is_err());
        assert!(traces_url("ftp://collector").is_err());
    }
}

//! Structured logs. Every line of a request carries its request id (tracing-actix-web's root
//! span). Handlers never log passwords, tokens, cookies or CSRF values.

use tracing_subscriber::EnvFilter;

pub mod metrics;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// The root span of every request: method, route *pattern* (`/invite/{token}`, never the path
/// itself, which can carry an invitation secret, nor the query, which can carry an OAuth code),
/// client IP, request id, status and error.
pub struct RedactedRootSpan;

impl tracing_actix_web::RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "(unmatched)".to_owned());
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let client_ip = crate::client_ip::ClientIp::of(request.request())
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.client_ip = %client_ip,
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span.clone(), outcome);
        let (error, status) = match outcome {
            Ok(response) => (response.response().error(), response.status()),
            Err(e) => (Some(e), e.as_response_error().status_code()),
        };
        if let Some(error) = error {
            span.in_scope(|| log_failure(error, status));
        }
    }
}

/// One log line per failed request, at the level it deserves: a server error is an ERROR, an
/// outage (503) a warning, a client's mistake nothing. The application's own errors log
/// themselves when they are turned into a response (`AppError`, `ApiError`), with the cause;
/// this catches the rest (a middleware or an extractor of the framework).
fn log_failure(error: &actix_web::Error, status: actix_web::http::StatusCode) {
    let logged_already = error.as_error::<crate::error::AppError>().is_some()
        || error.as_error::<crate::api::error::ApiError>().is_some();
    if logged_already || !status.is_server_error() {
        return;
    }
    if status == actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = ?error, "service unavailable");
    } else {
        tracing::error!(error = ?error, "request failed");
    }
}

//! Graceful shutdown for deploys. On SIGTERM (or SIGINT) the console starts draining: `/readyz`
//! answers 503 at once so the load balancer stops sending new traffic, while every request
//! that still arrives is served, with `Connection: close` so that no client keeps a
//! keep-alive connection that would be cut. After the drain period the server stops accepting
//! and finishes the requests in flight.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web;

/// Whether this instance is on its way out.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Middleware: while draining, every response closes its connection.
pub async fn close_connections_while_draining(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let draining = req
        .app_data::<web::Data<Draining>>()
        .is_some_and(|d| d.is_draining());
    let mut res = next.call(req).await?;
    // Checked again afterwards: a request that began before the signal and ends after it
    // must not leave its connection open either.
    if draining
        || res
            .request()
            .app_data::<web::Data<Draining>>()
            .is_some_and(|d| d.is_draining())
    {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// Waits for SIGTERM or SIGINT, then drains for `drain` and stops the server gracefully; a
/// second signal during the drain cuts it short (Ctrl-C twice in development).
/// The signal handlers are installed before this returns its future, so a signal that
/// arrives right after start-up is not missed.
pub fn on_signal(
    server: ServerHandle,
    draining: Draining,
    drain: Duration,
) -> std::io::Result<impl std::future::Future<Output = ()>> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        draining.start();
        tracing::info!(
            signal = name,
            drain_secs = drain.as_secs_f64(),
            "shutting down: draining, then no new connections"
        );
        tokio::select! {
            _ = actix_web::rt::time::sleep(drain) => {
                tracing::info!("drain period over: finishing the requests in flight");
            }
            _ = term.recv() => tracing::info!("second signal: drain cut short"),
            _ = int.recv() => tracing::info!("second signal: drain cut short"),
        }
        server.stop(true).await;
    })
}

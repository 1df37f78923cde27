//! The HTTP/1.1 listeners: the unix socket, and TCP if asked.

use crate::daemon::Daemon;
use crate::router;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio_util_shim::CancelToken;

/// Cancellation shared by the accept loops (a watch channel, so no new dependency).
pub(crate) mod tokio_util_shim {
    /// Cancelled once, seen by every clone.
    #[derive(Clone)]
    pub(crate) struct CancelToken(tokio::sync::watch::Receiver<bool>);

    /// The sending half.
    pub(crate) struct CancelHandle(tokio::sync::watch::Sender<bool>);

    /// A new token and its handle.
    pub(crate) fn cancel_pair() -> (CancelHandle, CancelToken) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (CancelHandle(tx), CancelToken(rx))
    }

    impl CancelHandle {
        /// Cancels every token.
        pub(crate) fn cancel(&self) {
            let _ = self.0.send(true);
        }
    }

    impl CancelToken {
        /// Resolves once cancelled.
        pub(crate) async fn cancelled(&mut self) {
            while !*self.0.borrow() {
                if self.0.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

fn serve_connection<S>(daemon: Arc<Daemon>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(stream);
    tokio::spawn(async move {
        let service = service_fn(move |req| {
            let daemon = daemon.clone();
            async move { Ok::<_, Infallible>(router::handle(daemon, req).await) }
        });
        if let Err(e) = http1::Builder::new().serve_connection(io, service).await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    });
}

/// Accepts on the unix socket until cancelled.
pub(crate) async fn serve_unix(daemon: Arc<Daemon>, listener: UnixListener, mut stop: CancelToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => serve_connection(daemon.clone(), stream),
                Err(e) => tracing::warn!(error = %e, "accept on the unix socket failed"),
            },
        }
    }
}

/// Accepts on TCP until cancelled.
pub(crate) async fn serve_tcp(daemon: Arc<Daemon>, listener: TcpListener, mut stop: CancelToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => serve_connection(daemon.clone(), stream),
                Err(e) => tracing::warn!(error = %e, "accept on TCP failed"),
            },
        }
    }
}

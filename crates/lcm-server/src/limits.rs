//! A listener that holds at most a fixed number of connections: past it, new connections
//! wait in the kernel's accept backlog until one closes.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A TCP listener with a connection limit.
#[derive(Debug)]
pub(crate) struct Limited {
    pub(crate) inner: TcpListener,
    pub(crate) slots: Arc<Semaphore>,
}

/// A connection holding one of the listener's slots until it is dropped.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl axum::serve::Listener for Limited {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await else {
                // The semaphore is never closed; wait and try again.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (
                        Conn {
                            stream,
                            _slot: slot,
                        },
                        addr,
                    );
                }
                // Out of file descriptors and the like: back off briefly, as axum does.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The most bytes of a request's head (request line and header fields); past it, 431
/// (hyper's `max_header_size`, which hyper leaves unset by default).
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// The most bytes a connection buffers while reading (hyper's `max_buf_size`; its default is
/// about 400 KiB): a head that has not ended within it is refused with 431 too.
pub const MAX_READ_BUFFER: usize = 256 * 1024;
/// The most header fields of a request; past it, 431 (hyper's default is 100).
pub const MAX_HEADERS: usize = 64;

/// Serves `app` on every connection `listener` accepts, HTTP/1.1 with the head limits above and
/// `head_timeout` to read a request's head, until `shutdown` resolves; then stops accepting,
/// lets every connection finish the request in flight (each closes after its answer) and
/// returns once all are closed. What `axum::serve` does, with the limits set explicitly.
pub(crate) async fn serve<L>(
    mut listener: L,
    app: axum::Router,
    head_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) where
    L: axum::serve::Listener,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_READ_BUFFER)
        .max_headers(MAX_HEADERS)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(head_timeout);
    // `stop` tells the connections to finish; every connection task holds a `closed`
    // receiver, so `open.closed()` resolves once the last one ended.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (open, closed) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let io = tokio::select! {
            (io, _) = listener.accept() => io,
            () = &mut shutdown => break,
        };
        let conn = builder.serve_connection(
            hyper_util::rt::TokioIo::new(io),
            hyper_util::service::TowerToHyperService::new(app.clone()),
        );
        let (mut stopping, closed) = (stopping.clone(), closed.clone());
        tokio::spawn(async move {
            {
                let mut conn = std::pin::pin!(conn);
                let stop = async move {
                    let _ = stopping.wait_for(|s| *s).await;
                };
                tokio::select! {
                    _ = conn.as_mut() => {}
                    () = stop => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.as_mut().await;
                    }
                }
            }
            // The connection, and with it its clone of the router and the state, is dropped
            // before `closed`: once `serve` returns no task holds the state, so the caller
            // closes the store's connections itself, off the async threads (a PostgreSQL
            // client dropped here would block on its own runtime inside this one).
            drop(closed);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop((stopping, closed));
    open.closed().await;
}

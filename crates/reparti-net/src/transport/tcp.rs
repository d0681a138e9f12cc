//! TCP, outgoing: length-prefixed frames over kept connections.
//!
//! A frame is a 4-byte big-endian length, then that many bytes. Each destination
//! address gets one connection, opened on the first frame for it by a writer task fed
//! through a bounded queue, so a slow or dead peer fills its own queue (whose overflow
//! is dropped and counted) and never stalls the node. A failed connect or write loses
//! that frame, counted; the next frame opens a new connection, as does a frame that
//! finds its connection closed by the peer (which closes connections silent for a
//! while: see [`super::tcp_in`], the incoming side).

use super::shared::{bump, lock, Shared};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// Frames waiting for one destination's writer: beyond, new ones are dropped. Twice the
/// reliable layer's default window (4,096 messages unacknowledged), so that a full window
/// and the acknowledgements going the same way fit: a queue smaller than the window
/// dropped part of every burst, only for it to be sent again.
pub const WRITER_QUEUE: usize = 8192;

/// A connect to an unreachable host can hang for minutes: give up sooner, the frame is
/// lost either way.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A write that cannot finish in this long means the peer stopped reading or vanished:
/// the connection is dropped and the next frame opens a new one.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The outgoing side: one writer task per destination.
pub struct Connections {
    shared: Arc<Shared>,
    writers: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
}

impl Connections {
    pub fn new(shared: Arc<Shared>) -> Self {
        Connections { shared, writers: Mutex::default() }
    }

    /// Queues one frame for `to`, starting its writer if needed.
    pub fn enqueue(&self, to: SocketAddr, bytes: Vec<u8>) {
        let mut writers = lock(&self.writers);
        let queue = writers.entry(to).or_insert_with(|| self.start_writer(to));
        match queue.try_send(bytes) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                bump(&self.shared.counters.backlog_drops);
                self.shared.report_once(to, "backlog", "the queue of frames to send is full: dropping frames");
            }
            // The writer is gone, which only happens while the transport is being dropped;
            // a new one costs nothing and keeps `enqueue` correct should that ever change.
            Err(TrySendError::Closed(bytes)) => {
                let queue = self.start_writer(to);
                let _ = queue.try_send(bytes);
                writers.insert(to, queue);
            }
        }
    }

    fn start_writer(&self, to: SocketAddr) -> mpsc::Sender<Vec<u8>> {
        let (tx, rx) = mpsc::channel(WRITER_QUEUE);
        self.shared.tasks.spawn(write_loop(to, rx, self.shared.clone()));
        tx
    }
}

/// At most this many bytes of frames go into one write: enough to carry hundreds of
/// small messages per system call, small enough that a batch is a few pages.
pub const BATCH_BYTES: usize = 64 * 1024;

/// Writes every frame queued for `to`, (re)connecting as needed. Frames already queued
/// when a write begins join it (up to [`BATCH_BYTES`]): a stream of small messages costs
/// one system call per batch, not one per frame, while a lone frame still goes at once.
async fn write_loop(to: SocketAddr, mut frames: mpsc::Receiver<Vec<u8>>, shared: Arc<Shared>) {
    let mut stream: Option<TcpStream> = None;
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    while let Some(bytes) = frames.recv().await {
        batch.clear();
        push_frame(&mut batch, &bytes);
        let mut count = 1u64;
        while batch.len() < BATCH_BYTES {
            match frames.try_recv() {
                Ok(more) => {
                    push_frame(&mut batch, &more);
                    count += 1;
                }
                Err(_) => break,
            }
        }
        if stream.as_ref().is_some_and(peer_has_closed) {
            // The peer restarted or gave up on us: writing would lose these frames too.
            stream = None;
        }
        let connection = match stream.as_mut() {
            Some(connection) => connection,
            None => match connect(to).await {
                Ok(connection) => stream.insert(connection),
                Err(detail) => {
                    shared.send_failed_many(to, count, &detail);
                    continue;
                }
            },
        };
        match tokio::time::timeout(WRITE_TIMEOUT, connection.write_all(&batch)).await {
            Ok(Ok(())) => {
                shared.counters.sent.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
                bump(&shared.counters.tcp_writes);
            }
            Ok(Err(e)) => {
                shared.send_failed_many(to, count, &format!("writing to the TCP connection failed: {e}"));
                stream = None;
            }
            Err(_) => {
                let detail = format!("the peer took over {WRITE_TIMEOUT:?} to take a frame; reconnecting");
                shared.send_failed_many(to, count, &detail);
                stream = None;
            }
        }
    }
}

async fn connect(to: SocketAddr) -> Result<TcpStream, String> {
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(to)).await {
        Ok(Ok(stream)) => {
            // Frames are whole messages, often small: send each at once.
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) => Err(format!("cannot connect over TCP: {e} (is the peer running and listening on TCP?)")),
        Err(_) => Err(format!("connecting over TCP timed out after {CONNECT_TIMEOUT:?}")),
    }
}

/// Peers never write on the connections we open, so a readable one has been closed (or
/// reset) at the other end.
fn peer_has_closed(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    match stream.try_read(&mut probe) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
        Ok(0) | Err(_) => true,
        // Unexpected data: ignore it, the connection itself is fine.
        Ok(_) => false,
    }
}

/// Appends one frame (its length prefix, then its bytes) to `out`.
fn push_frame(out: &mut Vec<u8>, bytes: &[u8]) {
    // `send` refuses anything above MAX_FRAME, far below u32::MAX.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_a_big_endian_length_and_follow_each_other() {
        let mut out = Vec::new();
        push_frame(&mut out, b"hi");
        push_frame(&mut out, b"");
        push_frame(&mut out, b"x");
        assert_eq!(out, vec![0, 0, 0, 2, b'h', b'i', 0, 0, 0, 0, 0, 0, 0, 1, b'x']);
    }
}

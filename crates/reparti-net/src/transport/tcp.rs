//! TCP: length-prefixed frames over kept connections.
//!
//! A frame is a 4-byte big-endian length, then that many bytes. Outgoing, each
//! destination address gets one connection, opened on the first frame for it by a writer
//! task fed through a bounded queue, so a slow or dead peer fills its own queue (whose
//! overflow is dropped and counted) and never stalls the node. A failed connect or write
//! loses that frame, counted; the next frame opens a new connection.
//!
//! Incoming, an accept loop starts one reader task per connection; readers push
//! `(bytes, peer)` into the channel that `Transport::recv` reads. `peer` is the address
//! the connection comes from, the sender's ephemeral port rather than its listening
//! address: the runtime identifies senders by the envelope, not by this address. Input is
//! hostile: a frame announcing more than [`MAX_FRAME`] bytes is refused before anything
//! is allocated, and closes its connection; a connection closed mid-frame loses the part
//! received. Both are counted.

use super::shared::{bump, lock, Shared};
use super::MAX_FRAME;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// Frames waiting for one destination's writer: beyond, new ones are dropped.
pub const WRITER_QUEUE: usize = 1024;

/// Frames received and not yet taken by `recv`: when full, readers wait, and TCP's own
/// flow control slows the senders down.
pub const INCOMING_QUEUE: usize = 1024;

/// Accept errors in a row after which the listener is taken to be broken.
pub const MAX_ACCEPT_ERRORS: u32 = 100;

/// A connect to an unreachable host can hang for minutes: give up sooner, the frame is
/// lost either way.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A write that cannot finish in this long means the peer stopped reading or vanished:
/// the connection is dropped and the next frame opens a new one.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// One frame received: its bytes and the address of the connection it came on.
pub type Incoming = (Vec<u8>, SocketAddr);

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

/// Writes every frame queued for `to`, (re)connecting as needed.
async fn write_loop(to: SocketAddr, mut frames: mpsc::Receiver<Vec<u8>>, shared: Arc<Shared>) {
    let mut stream: Option<TcpStream> = None;
    while let Some(bytes) = frames.recv().await {
        if stream.as_ref().is_some_and(peer_has_closed) {
            // The peer restarted or gave up on us: writing would lose this frame too.
            stream = None;
        }
        let connection = match stream.as_mut() {
            Some(connection) => connection,
            None => match connect(to).await {
                Ok(connection) => stream.insert(connection),
                Err(detail) => {
                    shared.send_failed(to, &detail);
                    continue;
                }
            },
        };
        let frame = encode_frame(&bytes);
        match tokio::time::timeout(WRITE_TIMEOUT, connection.write_all(&frame)).await {
            Ok(Ok(())) => bump(&shared.counters.sent),
            Ok(Err(e)) => {
                shared.send_failed(to, &format!("writing to the TCP connection failed: {e}"));
                stream = None;
            }
            Err(_) => {
                shared.send_failed(to, &format!("the peer took over {WRITE_TIMEOUT:?} to take a frame; reconnecting"));
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

/// The length prefix and the bytes, in one buffer so that a frame is one write.
pub fn encode_frame(bytes: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + bytes.len());
    // `send` refuses anything above MAX_FRAME, far below u32::MAX.
    frame.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    frame.extend_from_slice(bytes);
    frame
}

/// Accepts connections until the transport is dropped, or until accepting keeps failing;
/// then the last error is left in `failure` for `recv` to report.
pub async fn accept_loop(
    listener: TcpListener,
    frames: mpsc::Sender<Incoming>,
    shared: Arc<Shared>,
    failure: Arc<Mutex<Option<io::Error>>>,
) {
    let mut errors_in_a_row = 0u32;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                errors_in_a_row = 0;
                bump(&shared.counters.connections);
                shared.tasks.spawn(read_loop(stream, peer, frames.clone(), shared.clone()));
            }
            Err(e) => {
                // Usually out of file descriptors: wait for some to be freed.
                errors_in_a_row += 1;
                if errors_in_a_row >= MAX_ACCEPT_ERRORS {
                    *lock(&failure) = Some(e);
                    return;
                }
                if errors_in_a_row == 1 {
                    tracing::warn!("reparti transport {}: accepting a TCP connection failed: {e}", shared.local);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Reads frames from one connection until it closes or misbehaves.
async fn read_loop(mut stream: TcpStream, peer: SocketAddr, frames: mpsc::Sender<Incoming>, shared: Arc<Shared>) {
    loop {
        let mut prefix = [0u8; 4];
        match read_full(&mut stream, &mut prefix).await {
            Filled::All => {}
            Filled::Nothing => return,
            Filled::Part => {
                bump(&shared.counters.truncated);
                shared.report_once(peer, "truncated", "a TCP connection closed in the middle of a frame");
                return;
            }
        }
        let len = u32::from_be_bytes(prefix) as usize;
        if len > MAX_FRAME {
            bump(&shared.counters.oversize_received);
            shared.report_once(
                peer,
                "oversize",
                &format!("a TCP frame announced {len} bytes, over the limit of {MAX_FRAME}: closing the connection"),
            );
            return;
        }
        let mut bytes = vec![0u8; len];
        if read_full(&mut stream, &mut bytes).await != Filled::All {
            bump(&shared.counters.truncated);
            shared.report_once(peer, "truncated", "a TCP connection closed in the middle of a frame");
            return;
        }
        if frames.send((bytes, peer)).await.is_err() {
            return;
        }
    }
}

/// How much of a buffer [`read_full`] filled.
#[derive(Debug, PartialEq, Eq)]
enum Filled {
    All,
    /// The connection ended (or failed) before the first byte.
    Nothing,
    /// The connection ended (or failed) after some bytes.
    Part,
}

async fn read_full<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> Filled {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return if filled == 0 { Filled::Nothing } else { Filled::Part },
            Ok(n) => filled += n,
        }
    }
    Filled::All
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_tell_whole_frames_from_cut_ones() {
        let mut whole: &[u8] = &[0, 0, 0, 2];
        assert_eq!(read_full(&mut whole, &mut [0u8; 4]).await, Filled::All);
        let mut empty: &[u8] = &[];
        assert_eq!(read_full(&mut empty, &mut [0u8; 4]).await, Filled::Nothing);
        let mut cut: &[u8] = &[0, 0];
        assert_eq!(read_full(&mut cut, &mut [0u8; 4]).await, Filled::Part);
        // A zero-length read needs nothing: empty frames are whole.
        assert_eq!(read_full(&mut empty, &mut []).await, Filled::All);
    }

    #[test]
    fn frames_carry_a_big_endian_length() {
        assert_eq!(encode_frame(b"hi"), vec![0, 0, 0, 2, b'h', b'i']);
        assert_eq!(encode_frame(b""), vec![0, 0, 0, 0]);
    }
}

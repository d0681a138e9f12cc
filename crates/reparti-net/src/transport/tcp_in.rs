//! TCP, incoming: the listener, one reader per connection, and the limits that keep
//! strangers from holding a node's descriptors and memory.
//!
//! Anyone who can reach the port can connect, so every resource a connection takes is
//! bounded ([`TcpLimits`]):
//!
//! * **Silence.** A connection that brings no byte for `idle_timeout` between frames is
//!   closed; a frame must arrive whole within `frame_timeout` of its first byte (a
//!   "slow loris" dripping a frame byte by byte is closed too). Our own peers lose
//!   nothing by this: a writer that finds its connection closed opens a new one on its
//!   next frame.
//! * **Connections.** At most `max_connections` at once: the next one closes the one
//!   that has gone longest without bringing a whole frame (a silent or dripping one
//!   before a peer's that is talking), so a flood of idle connections cannot lock a
//!   real peer out.
//! * **Memory.** A frame's bytes are taken from a budget of `max_buffered` bytes shared
//!   by every connection as they arrive, never on the strength of the announced length.
//!   When the budget runs out, the connection whose incomplete frame is the oldest is
//!   closed (a real peer's frame arrives in milliseconds; one held for long is a
//!   hog's), and its bytes are given back. Whole frames then wait in a bounded queue
//!   for the node.
//! * **Descriptors.** When accepting fails (usually out of file descriptors), the
//!   listener backs off (10 ms doubling to 1 s), closes the connection idle longest to
//!   free a descriptor, and keeps accepting once it can: it never stops for good.
//!
//! Every connection closed on these grounds is counted ([`super::TransportStats`]) and
//! reported once per kind of problem.

use super::shared::{bump, lock, Shared};
use super::tcp_limits::TcpLimits;
use super::{Origin, MAX_FRAME};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio::time::{timeout, timeout_at, Instant};

/// Frames received and not yet taken by `recv`: when full, readers wait, and TCP's own
/// flow control slows the senders down. With frames of at most [`MAX_FRAME`] bytes,
/// this bounds what waits at 16 MiB.
pub const INCOMING_QUEUE: usize = 128;

/// How much of a frame is read (and taken from the budget) at a time.
const CHUNK: usize = 16 * 1024;

/// The least time between two reports of failing to accept.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The first and the longest wait between two failed accepts.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const LONGEST_BACKOFF: Duration = Duration::from_secs(1);

/// One frame received: its bytes and where it came from.
pub type Incoming = (Vec<u8>, Origin);

/// What the listener and its readers share.
pub struct Listening {
    shared: Arc<Shared>,
    limits: TcpLimits,
    /// Bytes of incomplete frames held now.
    buffered: AtomicUsize,
    /// The open connections, by number.
    open: Mutex<BTreeMap<u64, Entry>>,
    next_id: AtomicU64,
    /// The time origin of [`Times`].
    epoch: Instant,
}

/// An open connection, as the listener sees it.
struct Entry {
    times: Arc<Times>,
    /// Tells its reader to close it.
    close: Arc<Notify>,
}

/// A connection's times, in ms since the listener's `epoch`.
struct Times {
    /// When it last brought a whole frame (or was accepted).
    active_ms: AtomicU64,
    /// When the frame it is receiving began ([`NO_FRAME`]: none).
    frame_since_ms: AtomicU64,
}

const NO_FRAME: u64 = u64::MAX;

/// How many times, a millisecond apart, a reader short of budget looks for the bytes of
/// the frame it closed to make room (its reader gives them back when it next runs).
const BUDGET_TRIES: u32 = 50;

impl Listening {
    pub fn new(shared: Arc<Shared>, limits: TcpLimits) -> Arc<Listening> {
        Arc::new(Listening {
            shared,
            limits,
            buffered: AtomicUsize::new(0),
            open: Mutex::default(),
            next_id: AtomicU64::new(1),
            epoch: Instant::now(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Registers a new connection, closing the one idle longest when at the cap; also
    /// says whether it closed one.
    fn admit(self: &Arc<Self>) -> (Connection, bool) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let times =
            Arc::new(Times { active_ms: AtomicU64::new(self.now_ms()), frame_since_ms: AtomicU64::new(NO_FRAME) });
        let close = Arc::new(Notify::new());
        let mut open = lock(&self.open);
        let mut closed_one = false;
        while open.len() >= self.limits.max_connections.max(1) {
            if !close_idlest(&mut open) {
                break;
            }
            closed_one = true;
            bump(&self.shared.counters.evicted);
            let detail = format!(
                "over {} TCP connections at once: closing the one idle longest to make room",
                self.limits.max_connections
            );
            self.shared.report_once_for_all("evicted", &detail);
        }
        open.insert(id, Entry { times: Arc::clone(&times), close: Arc::clone(&close) });
        (Connection { id, listening: Arc::clone(self), times, close }, closed_one)
    }

    /// Takes `more` bytes of budget for connection `me`'s frame, begun at `since_ms`,
    /// closing older incomplete frames to make room; false if `me`'s own frame is the
    /// oldest, or room cannot be made.
    async fn take(&self, held: &mut Held<'_>, more: usize, me: u64, since_ms: u64) -> bool {
        let mut closed_one = false;
        for _ in 0..BUDGET_TRIES {
            if held.grow(more) {
                return true;
            }
            // One frame closed per request, then time for its reader to give its bytes
            // back: closing more would close frames for nothing.
            if !closed_one {
                if !close_oldest_frame(&mut lock(&self.open), me, since_ms) {
                    return false;
                }
                bump(&self.shared.counters.over_budget);
                closed_one = true;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        false
    }
}

/// Closes the connection whose incomplete frame began first, if it began before
/// `since_ms` (and is not `me`'s); false if there is none.
fn close_oldest_frame(open: &mut BTreeMap<u64, Entry>, me: u64, since_ms: u64) -> bool {
    let oldest = open
        .iter()
        .filter(|(id, _)| **id != me)
        .map(|(id, e)| (e.times.frame_since_ms.load(Ordering::Relaxed), *id))
        .filter(|(since, _)| *since != NO_FRAME && *since <= since_ms)
        .min();
    match oldest.and_then(|(_, id)| open.remove(&id)) {
        Some(entry) => {
            entry.close.notify_one();
            true
        }
        None => false,
    }
}

/// Closes the connection that has gone longest without a whole frame; false if none is open.
fn close_idlest(open: &mut BTreeMap<u64, Entry>) -> bool {
    let idlest = open.iter().min_by_key(|(id, e)| (e.times.active_ms.load(Ordering::Relaxed), **id)).map(|(id, _)| *id);
    match idlest.and_then(|id| open.remove(&id)) {
        Some(entry) => {
            // A stored permit: the reader sees it even if it is not waiting yet.
            entry.close.notify_one();
            true
        }
        None => false,
    }
}

/// A reader's registration; dropping it (the reader ending, even aborted) unregisters.
struct Connection {
    id: u64,
    listening: Arc<Listening>,
    times: Arc<Times>,
    close: Arc<Notify>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        lock(&self.listening.open).remove(&self.id);
    }
}

/// Bytes taken from the shared budget of incomplete frames, given back when dropped.
struct Held<'a> {
    budget: &'a AtomicUsize,
    limit: usize,
    bytes: usize,
}

impl Held<'_> {
    /// Takes `more` bytes, unless that would overdraw the budget.
    fn grow(&mut self, more: usize) -> bool {
        let taken = self.budget.fetch_add(more, Ordering::AcqRel) + more;
        if taken > self.limit {
            self.budget.fetch_sub(more, Ordering::AcqRel);
            return false;
        }
        self.bytes += more;
        true
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.budget.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Accepts connections until the transport is dropped, backing off while accepting
/// fails and recovering when it works again.
pub async fn accept_loop(listener: TcpListener, frames: mpsc::Sender<Incoming>, listening: Arc<Listening>) {
    let shared = Arc::clone(&listening.shared);
    let mut failures = 0u64;
    let mut backoff = FIRST_BACKOFF;
    // A spell of failures is said when it begins and when it ends, at most once per
    // REPORT_EVERY: descriptors running out again and again make a few lines, not many.
    let mut said_at: Option<Instant> = None;
    let mut saying = false;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if failures > 0 {
                    if saying {
                        tracing::warn!(
                            "reparti transport {}: accepting TCP connections again, after {failures} failed attempt(s)",
                            shared.local
                        );
                    }
                    (failures, backoff, saying) = (0, FIRST_BACKOFF, false);
                }
                bump(&shared.counters.connections);
                let (connection, closed_one) = listening.admit();
                shared.tasks.spawn(read_loop(stream, peer, connection, frames.clone()));
                if closed_one {
                    // Let the closed connection's reader give its descriptor back before
                    // the next accept takes another.
                    tokio::task::yield_now().await;
                }
            }
            Err(e) => {
                bump(&shared.counters.accept_errors);
                failures += 1;
                if failures == 1 && said_at.is_none_or(|t| t.elapsed() >= REPORT_EVERY) {
                    said_at = Some(Instant::now());
                    saying = true;
                    tracing::warn!(
                        "reparti transport {}: accepting a TCP connection failed ({e}); retrying with a backoff, and closing the connection idle longest if descriptors ran out (such failures are said at most every {REPORT_EVERY:?}, and counted)",
                        shared.local
                    );
                }
                if out_of_descriptors(&e) && close_idlest(&mut lock(&listening.open)) {
                    bump(&shared.counters.evicted);
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(LONGEST_BACKOFF);
            }
        }
    }
}

/// EMFILE (this process) or ENFILE (the whole system): the same numbers on Linux, macOS
/// and the BSDs. Other errors (a connection reset before it was accepted) pass by
/// themselves.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

/// Reads frames from one connection until it closes, misbehaves or is told to close.
async fn read_loop(mut stream: TcpStream, peer: SocketAddr, connection: Connection, frames: mpsc::Sender<Incoming>) {
    let close = Arc::clone(&connection.close);
    tokio::select! {
        biased;
        _ = close.notified() => {}
        _ = read_frames(&mut stream, peer, &connection, &frames) => {}
    }
}

/// Why a reader stopped in the middle of a frame.
enum Cut {
    /// The peer closed the connection.
    Closed,
    /// The frame did not arrive in time.
    Slow,
}

async fn read_frames(stream: &mut TcpStream, peer: SocketAddr, conn: &Connection, frames: &mpsc::Sender<Incoming>) {
    let listening = &conn.listening;
    let (shared, limits) = (&listening.shared, listening.limits);
    let origin = Origin { addr: peer, connection: Some(conn.id) };
    // Frames are read through a buffer of one chunk per connection (CHUNK × the
    // connection cap at most: 4 MiB by default), so that a stream of small frames costs
    // a system call per buffer, not two per frame (its length, then its bytes).
    let mut stream = BufReader::with_capacity(CHUNK, stream);
    loop {
        // Whole frames already in the buffer need no waiting: no timeout, no share of the
        // budget for incomplete frames, one clock reading for the lot. A frame that is
        // not whole yet (or announces too much) takes the careful path below.
        let mut took = false;
        while let Some(bytes) = buffered_frame(&mut stream) {
            took = true;
            if frames.send((bytes, origin)).await.is_err() {
                return;
            }
        }
        if took {
            conn.times.active_ms.store(listening.now_ms(), Ordering::Relaxed);
        }
        let mut prefix = [0u8; 4];
        let first = match timeout(limits.idle_timeout, stream.read(&mut prefix)).await {
            Err(_) => {
                bump(&shared.counters.idle_closed);
                let detail = format!("a TCP connection was silent for {:?}: closing it", limits.idle_timeout);
                shared.report_once_for_all("idle", &detail);
                return;
            }
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(k)) => k,
        };
        let deadline = Instant::now() + limits.frame_timeout;
        let since_ms = listening.now_ms();
        conn.times.frame_since_ms.store(since_ms, Ordering::Relaxed);
        if let Err(cut) = read_by(&mut stream, &mut prefix[first..], deadline).await {
            return cut_short(shared, cut, limits.frame_timeout);
        }
        let len = u32::from_be_bytes(prefix) as usize;
        if len > MAX_FRAME {
            bump(&shared.counters.oversize_received);
            shared.report_once_for_all(
                "oversize",
                &format!("a TCP frame announced {len} bytes, over the limit of {MAX_FRAME}: closing the connection"),
            );
            return;
        }
        let mut held = Held { budget: &listening.buffered, limit: limits.max_buffered, bytes: 0 };
        let mut bytes = Vec::new();
        while bytes.len() < len {
            let chunk = (len - bytes.len()).min(CHUNK);
            if !listening.take(&mut held, chunk, conn.id, since_ms).await {
                bump(&shared.counters.over_budget);
                let detail = format!(
                    "incomplete TCP frames would hold over {} bytes at once: closing the connection",
                    limits.max_buffered
                );
                shared.report_once_for_all("budget", &detail);
                return;
            }
            let start = bytes.len();
            bytes.reserve_exact(chunk);
            bytes.resize(start + chunk, 0);
            if let Err(cut) = read_by(&mut stream, &mut bytes[start..], deadline).await {
                return cut_short(shared, cut, limits.frame_timeout);
            }
        }
        // Whole: it leaves the budget of incomplete frames for the bounded queue.
        drop(held);
        conn.times.frame_since_ms.store(NO_FRAME, Ordering::Relaxed);
        conn.times.active_ms.store(listening.now_ms(), Ordering::Relaxed);
        if frames.send((bytes, origin)).await.is_err() {
            return;
        }
    }
}

/// The frame at the front of the reader's buffer, taken out of it, if the buffer holds
/// all of it and it is within [`MAX_FRAME`].
fn buffered_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<Vec<u8>> {
    let buffered = reader.buffer();
    let prefix: [u8; 4] = buffered.get(..4)?.try_into().ok()?;
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return None;
    }
    let bytes = buffered.get(4..4 + len)?.to_vec();
    reader.consume(4 + len);
    Some(bytes)
}

fn cut_short(shared: &Shared, cut: Cut, frame_timeout: Duration) {
    match cut {
        Cut::Closed => {
            bump(&shared.counters.truncated);
            shared.report_once_for_all("truncated", "a TCP connection closed in the middle of a frame");
        }
        Cut::Slow => {
            bump(&shared.counters.idle_closed);
            let detail = format!("a TCP frame took over {frame_timeout:?} to arrive: closing the connection");
            shared.report_once_for_all("slow", &detail);
        }
    }
}

/// Fills `buf` before `deadline`.
async fn read_by<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8], deadline: Instant) -> Result<(), Cut> {
    match timeout_at(deadline, read_full(reader, buf)).await {
        Err(_) => Err(Cut::Slow),
        Ok(true) => Ok(()),
        Ok(false) => Err(Cut::Closed),
    }
}

/// Fills `buf`; false if the connection ended (or failed) first.
async fn read_full<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> bool {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => filled += n,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn whole_frames_are_taken_from_the_buffer_and_the_rest_left_for_the_careful_path() {
        let mut bytes = Vec::new();
        for body in [&b"ab"[..], b"", b"cde"] {
            bytes.extend((body.len() as u32).to_be_bytes());
            bytes.extend(body);
        }
        bytes.extend(9u32.to_be_bytes());
        bytes.extend(b"xy");
        let mut reader = BufReader::new(&bytes[..]);
        reader.fill_buf().await.expect("a slice reads");
        assert_eq!(buffered_frame(&mut reader), Some(b"ab".to_vec()));
        assert_eq!(buffered_frame(&mut reader), Some(Vec::new()));
        assert_eq!(buffered_frame(&mut reader), Some(b"cde".to_vec()));
        assert_eq!(buffered_frame(&mut reader), None, "a frame cut short waits");
        assert_eq!(reader.buffer(), &[0, 0, 0, 9, b'x', b'y']);
        let oversize = ((MAX_FRAME + 1) as u32).to_be_bytes();
        let mut reader = BufReader::new(&oversize[..]);
        reader.fill_buf().await.expect("a slice reads");
        assert_eq!(buffered_frame(&mut reader), None, "an oversize frame is the careful path's to report");
        assert_eq!(reader.buffer().len(), 4);
    }

    #[tokio::test]
    async fn reads_tell_whole_buffers_from_cut_ones() {
        let far = Instant::now() + Duration::from_secs(5);
        let mut whole: &[u8] = &[0, 0, 0, 2];
        assert!(read_by(&mut whole, &mut [0u8; 4], far).await.is_ok());
        let mut cut: &[u8] = &[0, 0];
        assert!(matches!(read_by(&mut cut, &mut [0u8; 4], far).await, Err(Cut::Closed)));
        // A zero-length read needs nothing: empty frames are whole.
        let mut empty: &[u8] = &[];
        assert!(read_by(&mut empty, &mut [], far).await.is_ok());
    }

    #[test]
    fn the_budget_refuses_what_would_overdraw_it_and_gives_back_what_was_held() {
        let budget = AtomicUsize::new(0);
        let mut a = Held { budget: &budget, limit: 100, bytes: 0 };
        assert!(a.grow(60));
        let mut b = Held { budget: &budget, limit: 100, bytes: 0 };
        assert!(!b.grow(50), "60 + 50 is over 100");
        assert!(b.grow(40));
        assert_eq!(budget.load(Ordering::Relaxed), 100);
        drop(a);
        assert_eq!(budget.load(Ordering::Relaxed), 40);
        drop(b);
        assert_eq!(budget.load(Ordering::Relaxed), 0);
    }

    fn entry(active_ms: u64, frame_since_ms: u64) -> Entry {
        let times = Times { active_ms: AtomicU64::new(active_ms), frame_since_ms: AtomicU64::new(frame_since_ms) };
        Entry { times: Arc::new(times), close: Arc::new(Notify::new()) }
    }

    #[test]
    fn the_idlest_connection_is_closed_first() {
        let mut open = BTreeMap::new();
        for (id, ms) in [(1u64, 50u64), (2, 10), (3, 10), (4, 90)] {
            open.insert(id, entry(ms, NO_FRAME));
        }
        assert!(close_idlest(&mut open));
        assert_eq!(open.keys().copied().collect::<Vec<_>>(), vec![1, 3, 4], "10 ms, the older number first");
        open.clear();
        assert!(!close_idlest(&mut open));
    }

    #[test]
    fn the_oldest_incomplete_frame_makes_room_unless_it_is_ours() {
        let mut open = BTreeMap::new();
        open.insert(1, entry(0, 40));
        open.insert(2, entry(0, 20));
        open.insert(3, entry(0, NO_FRAME));
        open.insert(4, entry(0, 30));
        assert!(close_oldest_frame(&mut open, 4, 30), "frame 2 began at 20, before ours at 30");
        assert_eq!(open.keys().copied().collect::<Vec<_>>(), vec![1, 3, 4]);
        assert!(!close_oldest_frame(&mut open, 4, 30), "ours (30) is now the oldest: none older to close");
        assert!(close_oldest_frame(&mut open, 1, 40));
        assert_eq!(open.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
    }
}

//! TCP messages as both kinds of peer send them: lines, or bare `send()` chunks.
//!
//! reparti ends each message with `\n`. The lab sheet's Python scripts do
//! `s.send(msg.encode())` with no newline and read with `recv(1024)`: for them a message
//! is whatever one `send` put on the wire, and a reader waiting for a newline would wait
//! for ever. [`Incoming`] reads both: a newline ends a message (so several lines in one
//! chunk are several messages), and bytes with no newline after them end a message once
//! the peer has been quiet for [`QUIET`].
//!
//! Why a pause and not "each `read` is a message", as `recv(1024)` has it: TCP may cut a
//! long line in transit, and a reparti peer's line must not become two messages because
//! the kernel delivered it in two pieces. A sheet-style peer sends a message and then
//! waits for the answer, so its message is always followed by a pause.

use super::{decode_line, MAX_LINE};
use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long a peer must stay quiet after bytes with no newline for them to be a message.
/// Long enough for the rest of a line cut in transit to arrive, short enough that a
/// person does not notice it before the answer.
pub const QUIET: Duration = Duration::from_millis(200);

/// How a message came, and so how to answer it: in the same framing, so that each kind of
/// peer reads the answer as it expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Ended by `\n`: reparti, `nc`, telnet.
    Line,
    /// No newline, ended by a pause: the lab sheet's `send(msg.encode())`. An answer in
    /// this framing is sent bare too, so that the sheet's `print(data.decode())` shows it
    /// without a stray blank line.
    Bare,
}

impl Framing {
    /// `text` as it goes on the wire in this framing.
    pub(crate) fn encode(self, text: &str) -> Vec<u8> {
        let mut bytes = text.as_bytes().to_vec();
        if self == Framing::Line {
            bytes.push(b'\n');
        }
        bytes
    }
}

/// One message received.
#[derive(Debug)]
pub(crate) struct Message {
    /// The text, lossily decoded, newline stripped.
    pub text: String,
    /// Whether it was longer than [`MAX_LINE`] and has been cut.
    pub cut: bool,
    /// How it came.
    pub framing: Framing,
}

/// What waiting for a message gave.
#[derive(Debug)]
pub(crate) enum Next {
    /// A message.
    Message(Message),
    /// The peer closed the connection (and everything it sent has been given out).
    Closed,
    /// The deadline passed with nothing received.
    TimedOut,
}

/// The receiving side of a TCP connection, cut into messages.
#[derive(Debug)]
pub(crate) struct Incoming {
    stream: TcpStream,
    /// Bytes received but not yet given out as a message.
    buf: Vec<u8>,
    /// The peer closed its side.
    closed: bool,
    /// Dropping the rest of a message already given out cut: up to the next newline or pause.
    skipping: bool,
}

impl Incoming {
    pub(crate) fn new(stream: TcpStream) -> Incoming {
        Incoming { stream, buf: Vec::new(), closed: false, skipping: false }
    }

    /// The connection, to write answers on (`&TcpStream` is `Write`).
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Waits for the next message, until `deadline` for its first byte (for ever with
    /// `None`). Memory stays bounded whatever the peer sends: a message longer than
    /// [`MAX_LINE`] is cut and the rest of it dropped.
    pub(crate) fn next(&mut self, deadline: Option<Instant>) -> io::Result<Next> {
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            if let Some(line) = self.take_line() {
                return Ok(Next::Message(line));
            }
            if self.buf.len() > MAX_LINE {
                // No newline in sight and already too long: cut it here, drop the rest.
                self.skipping = true;
                return Ok(Next::Message(self.take_bare(true)));
            }
            if self.closed {
                // Bytes the peer sent just before closing (`send(b"fin")`, then `close()`)
                // are still a message.
                return Ok(if self.buf.is_empty() { Next::Closed } else { Next::Message(self.take_bare(false)) });
            }
            let pending = !self.buf.is_empty() || self.skipping;
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let wait = match (pending, left) {
                (true, Some(left)) => Some(left.min(QUIET)),
                (true, None) => Some(QUIET),
                (false, left) => left,
            };
            // A zero timeout means "block for ever" to the system, and std refuses it.
            self.stream.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
            match (&self.stream).read(&mut chunk) {
                Ok(0) => self.closed = true,
                Ok(n) => self.push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    // The peer paused: what it sent without a newline is one message, and
                    // the cut message being dropped is over.
                    self.skipping = false;
                    if !self.buf.is_empty() {
                        return Ok(Next::Message(self.take_bare(false)));
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(Next::TimedOut);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Adds received bytes, minus the rest of a message being dropped.
    fn push(&mut self, mut bytes: &[u8]) {
        if self.skipping {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.skipping = false;
                    bytes = &bytes[i + 1..];
                }
                None => return,
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The first complete line received, if any.
    fn take_line(&mut self) -> Option<Message> {
        let end = self.buf.iter().position(|&b| b == b'\n')?;
        let rest = self.buf.split_off(end + 1);
        let line = std::mem::replace(&mut self.buf, rest);
        let (text, cut) = decode_line(&line);
        Some(Message { text, cut, framing: Framing::Line })
    }

    /// Everything received, as one message without a newline.
    fn take_bare(&mut self, cut: bool) -> Message {
        let bytes = std::mem::take(&mut self.buf);
        let (text, clipped) = decode_line(&bytes);
        Message { text, cut: cut || clipped, framing: Framing::Bare }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    const WAIT: Duration = Duration::from_secs(10);

    /// A connected pair on loopback: (the peer's end to write, our `Incoming`).
    fn pair() -> (TcpStream, Incoming) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let peer = TcpStream::connect(listener.local_addr().expect("bound")).expect("connect");
        let (ours, _) = listener.accept().expect("accept");
        (peer, Incoming::new(ours))
    }

    fn message(incoming: &mut Incoming) -> Message {
        match incoming.next(Some(Instant::now() + WAIT)).expect("read") {
            Next::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn lines_split_and_bare_chunks_end_at_a_pause() {
        let (mut peer, mut incoming) = pair();
        // Measured from before the bytes are sent: the pause runs from their arrival,
        // so a slow machine between the send and the reads cannot make it look short.
        let started = Instant::now();
        peer.write_all(b"un\r\ndeux\ntrois").expect("send");
        let (a, b) = (message(&mut incoming), message(&mut incoming));
        assert_eq!((a.text.as_str(), a.framing), ("un", Framing::Line));
        assert_eq!((b.text.as_str(), b.framing), ("deux", Framing::Line));
        let c = message(&mut incoming);
        assert_eq!((c.text.as_str(), c.framing, c.cut), ("trois", Framing::Bare, false));
        assert!(started.elapsed() >= QUIET, "a bare chunk waits for the pause");
    }

    #[test]
    fn a_line_in_two_pieces_is_one_message() {
        let (mut peer, mut incoming) = pair();
        peer.write_all(b"bon").expect("send");
        let writer = std::thread::spawn(move || {
            // Well within QUIET: the kernel cutting a line must not cut the message.
            std::thread::sleep(QUIET / 4);
            peer.write_all(b"jour\n").expect("send");
            peer
        });
        let m = message(&mut incoming);
        assert_eq!((m.text.as_str(), m.framing), ("bonjour", Framing::Line));
        drop(writer.join());
    }

    #[test]
    fn bytes_before_a_close_are_a_message_then_closed() {
        let (mut peer, mut incoming) = pair();
        peer.write_all(b"fin").expect("send");
        drop(peer);
        let m = message(&mut incoming);
        assert_eq!((m.text.as_str(), m.framing), ("fin", Framing::Bare));
        assert!(matches!(incoming.next(Some(Instant::now() + WAIT)).expect("read"), Next::Closed));
    }

    #[test]
    fn silence_times_out_at_the_deadline() {
        let (_peer, mut incoming) = pair();
        let started = Instant::now();
        let got = incoming.next(Some(started + Duration::from_millis(100))).expect("read");
        assert!(matches!(got, Next::TimedOut), "{got:?}");
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[test]
    fn a_message_too_long_is_cut_and_its_rest_dropped() {
        let (mut peer, mut incoming) = pair();
        let writer = std::thread::spawn(move || {
            let mut bytes = vec![b'x'; MAX_LINE + 40_000];
            bytes.extend_from_slice(b"\nsuite\n");
            peer.write_all(&bytes).expect("send");
            peer
        });
        let long = message(&mut incoming);
        assert!(long.cut && long.text.len() == MAX_LINE, "{} bytes, cut {}", long.text.len(), long.cut);
        let next = message(&mut incoming);
        assert_eq!((next.text.as_str(), next.framing), ("suite", Framing::Line));
        drop(writer.join());
    }
}

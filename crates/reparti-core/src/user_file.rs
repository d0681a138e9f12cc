//! Reading the files a user names — topologies, scenarios, cluster files, keys, traces —
//! within bounds.
//!
//! A path is untrusted input like any other: `file:/dev/zero` once read 4.2 GB before
//! failing, and a FIFO nobody writes to would hang the command at `open`. So a file is
//! read only if it is a regular file (checked before opening, since opening a FIFO
//! blocks), and never more than its kind's [`Limit`] (with `take`, so a file that grows
//! while being read, or lies about its size, is still cut off). Each refusal is one line
//! naming the file, the cause and the fix.
//!
//! Traces are read line by line instead ([`read_line_capped`]): a trace has no useful
//! total size limit (a long run is long), but no line of one needs to be huge, and a
//! gigabyte-long line is refused without being held whole.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

/// The most a kind of file may hold, and why it is enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// What the file is, for messages: `"topology file"`.
    pub what: &'static str,
    /// The most bytes it may have.
    pub bytes: u64,
    /// Why that is plenty, for messages.
    pub why: &'static str,
}

/// An edge list: 64 MiB is about four million edges, more than any simulation whose
/// topology someone would write out by hand or by script.
pub const TOPOLOGY: Limit =
    Limit { what: "topology file", bytes: 64 << 20, why: "about four million edges `a b`, one per line" };

/// A scenario: handwritten TOML; 4 MiB holds tens of thousands of scheduled inputs.
pub const SCENARIO: Limit =
    Limit { what: "scenario file", bytes: 4 << 20, why: "tens of thousands of inputs and faults" };

/// A cluster file: one `HOST:PORT` per node; 4 MiB names over a hundred thousand.
pub const CLUSTER: Limit = Limit { what: "cluster file", bytes: 4 << 20, why: "over a hundred thousand addresses" };

/// A history of client operations (`reparti lin`): 1 GiB is about ten million
/// operations, past what a linearizability search can judge anyway.
pub const HISTORY: Limit =
    Limit { what: "history file", bytes: 1 << 30, why: "about ten million operations, one event a line" };

/// A Fernet key file: 44 characters and perhaps a newline.
pub const KEY: Limit = Limit { what: "key file", bytes: 4 << 10, why: "a key is 44 characters" };

/// A trace's first line: the header, with one identity per node (a 64 MiB header
/// describes several million nodes).
pub const TRACE_HEADER_LINE: Limit =
    Limit { what: "trace header", bytes: 64 << 20, why: "one identity per node for millions of nodes" };

/// Any later line of a trace: one event, whose vector clock has one entry per node.
pub const TRACE_EVENT_LINE: Limit =
    Limit { what: "trace line", bytes: 16 << 20, why: "an event with a vector clock of a million entries" };

/// Why a user's file was not read.
#[derive(Debug)]
pub struct FileError {
    /// The file as named.
    pub path: PathBuf,
    /// What it was meant to be: `"topology file"`.
    pub what: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a file, without its name (see [`FileError`]).
#[derive(Debug)]
pub enum Problem {
    /// It could not be opened or read.
    Io(io::Error),
    /// It is a folder.
    Directory,
    /// It is a device, a pipe or a socket: reading one may never end.
    NotRegular(&'static str),
    /// It holds more than its kind may.
    TooLarge(Limit),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Io(e) => write!(f, "cannot read it ({e}); check the path"),
            Problem::Directory => f.write_str("it is a folder, not a file; give the path of a file"),
            Problem::NotRegular(kind) => write!(
                f,
                "it is {kind}, not a regular file; give the path of a file (devices, pipes and sockets are not read: they may never end)"
            ),
            Problem::TooLarge(limit) => write!(
                f,
                "it is larger than {}, the most a {} may hold ({}); check the path, or split the file",
                crate::machine_memory::human_bytes(limit.bytes),
                limit.what,
                limit.why
            ),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.what, self.path.display(), self.problem)
    }
}

impl std::error::Error for FileError {}

impl FileError {
    fn new(path: &Path, what: &'static str, problem: Problem) -> Self {
        FileError { path: path.to_path_buf(), what, problem }
    }
}

/// What kind of non-regular file `meta` describes, in words.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "not a regular file"
}

/// Opens `path` for reading if it is a regular file (symbolic links followed); a folder,
/// a device, a pipe or a socket is refused before opening, since opening a pipe blocks
/// until someone writes to it.
pub fn open_regular(path: &Path, what: &'static str) -> Result<File, FileError> {
    let meta = std::fs::metadata(path).map_err(|e| FileError::new(path, what, Problem::Io(e)))?;
    if meta.is_dir() {
        return Err(FileError::new(path, what, Problem::Directory));
    }
    if !meta.is_file() {
        return Err(FileError::new(path, what, Problem::NotRegular(kind_of(&meta))));
    }
    File::open(path).map_err(|e| FileError::new(path, what, Problem::Io(e)))
}

/// Reads the whole of `path`, a regular file of at most `limit.bytes` bytes.
pub fn read_bytes(path: &Path, limit: Limit) -> Result<Vec<u8>, FileError> {
    let file = open_regular(path, limit.what)?;
    // A file that says it is too large is refused unread; one that says less is still
    // read with a cap below (it may grow, or a file system may not know its size).
    let claimed = file.metadata().map_or(0, |m| m.len());
    if claimed > limit.bytes {
        return Err(FileError::new(path, limit.what, Problem::TooLarge(limit)));
    }
    let mut bytes = Vec::with_capacity(claimed as usize);
    file.take(limit.bytes + 1).read_to_end(&mut bytes).map_err(|e| FileError::new(path, limit.what, Problem::Io(e)))?;
    if bytes.len() as u64 > limit.bytes {
        return Err(FileError::new(path, limit.what, Problem::TooLarge(limit)));
    }
    Ok(bytes)
}

/// Reads the whole of `path` as UTF-8 text, a regular file of at most `limit.bytes`.
pub fn read_text(path: &Path, limit: Limit) -> Result<String, FileError> {
    let bytes = read_bytes(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let problem = Problem::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is not UTF-8 text: byte {at} starts an invalid sequence"),
        ));
        FileError::new(path, limit.what, problem)
    })
}

/// What [`read_line_capped`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line, now in the buffer without its end of line.
    Read,
    /// The line is longer than the cap; the buffer holds its first `cap` bytes only and
    /// the rest of the line was not read.
    TooLong,
    /// The input has ended.
    End,
}

/// Reads the next line of `input` into `buf` (cleared first; the `\n` and a `\r`
/// before it removed), holding at most `cap` bytes of it: a longer line is reported as
/// [`Line::TooLong`] as soon as it passes the cap, without reading the rest.
pub fn read_line_capped<R: BufRead>(input: &mut R, buf: &mut Vec<u8>, cap: usize) -> io::Result<Line> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(if any { Line::Read } else { Line::End });
        }
        any = true;
        let (part, found_end) = match chunk.iter().position(|&b| b == b'\n') {
            Some(k) => (&chunk[..k], true),
            None => (chunk, false),
        };
        if buf.len() + part.len() > cap {
            let room = cap - buf.len();
            buf.extend_from_slice(&part[..room]);
            input.consume(room);
            return Ok(Line::TooLong);
        }
        buf.extend_from_slice(part);
        let used = part.len() + usize::from(found_end);
        input.consume(used);
        if found_end {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Line::Read);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines(text: &[u8], cap: usize) -> Vec<(Line, Vec<u8>)> {
        let mut input = io::BufReader::with_capacity(3, Cursor::new(text.to_vec()));
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line_capped(&mut input, &mut buf, cap).expect("in memory") {
                Line::End => return out,
                Line::TooLong => {
                    out.push((Line::TooLong, buf.clone()));
                    return out;
                }
                Line::Read => out.push((Line::Read, buf.clone())),
            }
        }
    }

    #[test]
    fn lines_are_read_like_bufread_lines_within_the_cap() {
        let got = lines(b"ab\r\n\ncdef\nlast", 8);
        let texts: Vec<&[u8]> = got.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(texts, [&b"ab"[..], b"", b"cdef", b"last"]);
        assert!(got.iter().all(|(l, _)| *l == Line::Read));
    }

    #[test]
    fn a_line_over_the_cap_is_refused_without_reading_it_whole() {
        let got = lines(b"short\nthis line is far too long\nnext\n", 8);
        assert_eq!(got[0], (Line::Read, b"short".to_vec()));
        assert_eq!(got[1], (Line::TooLong, b"this lin".to_vec()));
        // A line of exactly the cap fits.
        assert_eq!(lines(b"12345678\n", 8), [(Line::Read, b"12345678".to_vec())]);
    }

    #[test]
    fn an_endless_line_stops_at_the_cap() {
        let mut zeros = io::BufReader::new(io::repeat(0));
        let mut buf = Vec::new();
        assert_eq!(read_line_capped(&mut zeros, &mut buf, 1 << 16).expect("reads"), Line::TooLong);
        assert_eq!(buf.len(), 1 << 16);
    }

    #[test]
    fn devices_and_folders_are_refused_before_reading() {
        let e = read_text(Path::new("/dev/zero"), TOPOLOGY).expect_err("a device");
        assert!(e.to_string().contains("character device"), "{e}");
        let e = read_text(Path::new("/"), SCENARIO).expect_err("a folder");
        assert!(e.to_string().contains("folder"), "{e}");
        let e = read_text(Path::new("/no/such/file"), KEY).expect_err("missing");
        assert!(e.to_string().starts_with("key file /no/such/file: cannot read it"), "{e}");
    }

    #[test]
    fn a_file_over_its_limit_is_refused_and_one_within_is_read() {
        let dir = std::env::temp_dir().join(format!("reparti-user-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let small = Limit { what: "test file", bytes: 10, why: "a test" };
        let path = dir.join("f.txt");
        std::fs::write(&path, "0123456789").expect("write");
        assert_eq!(read_text(&path, small).expect("fits"), "0123456789");
        std::fs::write(&path, "0123456789A").expect("write");
        let e = read_text(&path, small).expect_err("too large");
        assert!(matches!(e.problem, Problem::TooLarge(_)), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        assert!(read_text(&path, small).expect_err("not text").to_string().contains("not UTF-8"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Fernet sealing of whole datagrams and frames (TP8), byte-compatible with Python's
//! `cryptography.fernet`.
//!
//! A sealed datagram is the Fernet token of the encoded envelope, as ASCII text:
//! base64url (with `=` padding) of `0x80 ‖ timestamp (u64 BE) ‖ IV (16) ‖ AES-128-CBC
//! ciphertext ‖ HMAC-SHA256 (32)`. The cryptography is the `fernet` crate's pure-Rust
//! backend; this module adds keys read from files and errors that say what went wrong.
//!
//! [`open`] checks, in order: that the bytes are a Fernet token at all
//! ([`SecureError::Unreadable`]), that the HMAC verifies under our key
//! ([`SecureError::Unauthentic`]: a wrong key and a tampered token look the same, by
//! design of the MAC), then, on an authentic token only, its age against the TTL
//! ([`SecureError::Expired`], [`SecureError::FromTheFuture`]). Checking the time after
//! the MAC means an "expired" verdict is never based on a forged timestamp.

use base64::Engine as _;
use fernet::Fernet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// How far in the future an authentic token's timestamp may be when a TTL is checked:
/// Python's `_MAX_CLOCK_SKEW`, so both sides accept the same tokens.
pub const MAX_CLOCK_SKEW: u64 = 60;

/// Fixed bytes of a token: version (1), timestamp (8), IV (16), HMAC (32).
const OVERHEAD: usize = 1 + 8 + 16 + 32;

/// Why a key could not be loaded or a token could not be opened.
#[derive(Clone, PartialEq, Eq, Debug, Error)]
pub enum SecureError {
    /// The key file does not exist.
    #[error("key file {} not found: make one with `reparti keygen > {}`", path.display(), path.display())]
    KeyFileMissing {
        /// The path given.
        path: PathBuf,
    },
    /// The key file exists but cannot be read (permissions, a directory, ...).
    #[error("cannot read key file {} ({detail}): check its permissions, or make a new one with `reparti keygen`", path.display())]
    KeyFileUnreadable {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        detail: String,
    },
    /// The text is not a Fernet key.
    #[error("{source_name} is not a Fernet key (44 characters of url-safe base64 for 32 bytes): make one with `reparti keygen`")]
    NotAKey {
        /// Where the text came from (a path, or "the key text").
        source_name: String,
    },
    /// The bytes are not a Fernet token.
    #[error("not a Fernet token ({detail}): the sender does not encrypt, or not with Fernet; give every node the same --key-file")]
    Unreadable {
        /// What is wrong with it.
        detail: &'static str,
    },
    /// The HMAC does not verify: another key, or modified in transit.
    #[error(
        "token fails authentication (wrong key, or tampered with in transit): check every node uses the same key file"
    )]
    Unauthentic,
    /// Authentic, but older than the TTL.
    #[error("token is {age} s old, past the {ttl} s TTL (a replay, or the sender's clock is behind): sync clocks or raise the TTL")]
    Expired {
        /// Its age in seconds.
        age: u64,
        /// The TTL it was checked against.
        ttl: u64,
    },
    /// Authentic, but stamped more than [`MAX_CLOCK_SKEW`] seconds ahead of our clock.
    #[error("token is stamped {ahead} s in the future (over 60 s of clock skew): sync the nodes' clocks (NTP)")]
    FromTheFuture {
        /// How far ahead, in seconds.
        ahead: u64,
    },
}

/// A Fernet key: 32 random bytes (16 to sign, 16 to encrypt), written as 44 characters
/// of url-safe base64, as Python's `Fernet.generate_key()` writes them.
#[derive(Clone)]
pub struct Key {
    text: String,
    fernet: Fernet,
}

impl fmt::Debug for Key {
    // Never print the secret: a key in a log is a leaked key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Key {
    /// A fresh random key (from the operating system's generator).
    pub fn generate() -> Key {
        let text = Fernet::generate_key();
        // A generated key always parses; fall back to parsing's error path to stay panic-free.
        Key::from_text(&text).unwrap_or_else(|_| unreachable!("Fernet::generate_key made an invalid key"))
    }

    /// Parses a key's text form; surrounding whitespace (a file's final newline) is ignored.
    pub fn from_text(text: &str) -> Result<Key, SecureError> {
        let text = text.trim();
        match Fernet::new(text) {
            Some(fernet) => Ok(Key { text: text.to_string(), fernet }),
            None => Err(SecureError::NotAKey { source_name: "the key text".into() }),
        }
    }

    /// Reads a key file, as written by `reparti keygen` or by Python's
    /// `open(path, "wb").write(Fernet.generate_key())`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Key, SecureError> {
        let path = path.as_ref();
        use reparti_core::user_file::{read_bytes, Problem, KEY};
        // Bounded: `--key-file /dev/zero` is refused at once instead of read forever.
        let bytes = read_bytes(path, KEY).map_err(|e| match e.problem {
            Problem::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                SecureError::KeyFileMissing { path: path.to_path_buf() }
            }
            other => SecureError::KeyFileUnreadable { path: path.to_path_buf(), detail: other.to_string() },
        })?;
        let not_a_key = || SecureError::NotAKey { source_name: path.display().to_string() };
        let text = std::str::from_utf8(&bytes).map_err(|_| not_a_key())?;
        Key::from_text(text).map_err(|_| not_a_key())
    }

    /// The key's text form (44 characters): what `reparti keygen` prints. Secret.
    pub fn as_text(&self) -> &str {
        &self.text
    }
}

/// Seals a datagram: returns the Fernet token (ASCII bytes) of `plain`, stamped now.
pub fn seal(key: &Key, plain: &[u8]) -> Vec<u8> {
    key.fernet.encrypt(plain).into_bytes()
}

/// [`seal`] with the token's time given, in seconds since the Unix epoch: for tests of
/// what a receiver does with an old (replayed) or future-dated token.
pub fn seal_at(key: &Key, plain: &[u8], unix_time: u64) -> Vec<u8> {
    key.fernet.encrypt_at_time(plain, unix_time).into_bytes()
}

/// Opens a sealed datagram. With `ttl = Some(s)`, refuses tokens made more than `s`
/// seconds ago (and, like Python, tokens stamped over a minute in the future).
pub fn open(key: &Key, token: &[u8], ttl: Option<u64>) -> Result<Vec<u8>, SecureError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    open_at(key, token, ttl, now)
}

/// [`open`] with the current time given, in seconds since the Unix epoch (for tests).
pub fn open_at(key: &Key, token: &[u8], ttl: Option<u64>, now: u64) -> Result<Vec<u8>, SecureError> {
    let text = std::str::from_utf8(token).map_err(|_| SecureError::Unreadable { detail: "not ASCII text" })?;
    let timestamp = parse_timestamp(text)?;
    // The fernet crate checks the time before the MAC, and computes `now + 60` unchecked
    // (a debug-build panic on a crafted timestamp). Giving it the token's own timestamp,
    // capped below that overflow, as "now" makes it check the MAC alone; we judge the
    // (then authentic) timestamp ourselves below, with checked arithmetic.
    let as_of = timestamp.min(u64::MAX - MAX_CLOCK_SKEW);
    let plain = key.fernet.decrypt_at_time(text, None, as_of).map_err(|_| SecureError::Unauthentic)?;
    if let Some(ttl) = ttl {
        if timestamp.checked_add(ttl).is_some_and(|limit| limit < now) {
            return Err(SecureError::Expired { age: now - timestamp, ttl });
        }
        if timestamp > now.saturating_add(MAX_CLOCK_SKEW) {
            return Err(SecureError::FromTheFuture { ahead: timestamp - now });
        }
    }
    Ok(plain)
}

/// Checks a token's framing and returns its (not yet authenticated) timestamp.
fn parse_timestamp(text: &str) -> Result<u64, SecureError> {
    // Python pads with `=`; accept tokens with or without padding, as Python and the
    // fernet crate both do.
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| SecureError::Unreadable { detail: "not url-safe base64" })?;
    if raw.first() != Some(&0x80) {
        return Err(SecureError::Unreadable { detail: "does not start with Fernet's version byte 0x80" });
    }
    // At least one AES block: PKCS#7 pads even an empty plaintext to 16 bytes.
    if raw.len() < OVERHEAD + 16 || (raw.len() - OVERHEAD) & 15 != 0 {
        return Err(SecureError::Unreadable { detail: "wrong length for a Fernet token" });
    }
    let mut stamp = [0u8; 8];
    stamp.copy_from_slice(&raw[1..9]);
    Ok(u64::from_be_bytes(stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn token_at(key: &Key, plain: &[u8], time: u64) -> Vec<u8> {
        key.fernet.encrypt_at_time(plain, time).into_bytes()
    }

    #[test]
    fn seal_then_open_gives_the_datagram_back() {
        let key = Key::generate();
        assert_eq!(key.as_text().len(), 44);
        for plain in [&b""[..], b"x", &[7u8; 1000]] {
            assert_eq!(open(&key, &seal(&key, plain), Some(60)).as_deref(), Ok(plain));
        }
    }

    #[test]
    fn wrong_key_and_tampering_are_unauthentic() {
        let key = Key::generate();
        let token = seal(&key, b"hello");
        assert_eq!(open(&Key::generate(), &token, None), Err(SecureError::Unauthentic));
        // Change one base64 character in the ciphertext: still a well-formed token.
        let mut tampered = token.clone();
        tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
        assert_eq!(open(&key, &tampered, None), Err(SecureError::Unauthentic));
    }

    #[test]
    fn ttl_refuses_old_and_future_tokens_only_when_authentic() {
        let key = Key::generate();
        let old = token_at(&key, b"m", NOW - 120);
        assert_eq!(open_at(&key, &old, Some(60), NOW), Err(SecureError::Expired { age: 120, ttl: 60 }));
        assert!(open_at(&key, &old, Some(200), NOW).is_ok());
        assert!(open_at(&key, &old, None, NOW).is_ok());
        let future = token_at(&key, b"m", NOW + 3600);
        assert_eq!(open_at(&key, &future, Some(60), NOW), Err(SecureError::FromTheFuture { ahead: 3600 }));
        // A timestamp near u64::MAX must not overflow the age arithmetic.
        let far = token_at(&key, b"m", u64::MAX - 1);
        assert!(matches!(open_at(&key, &far, Some(u64::MAX), NOW), Err(SecureError::FromTheFuture { .. })));
        // An old token under a wrong key is unauthentic, not expired.
        assert_eq!(open_at(&Key::generate(), &old, Some(60), NOW), Err(SecureError::Unauthentic));
    }

    #[test]
    fn garbage_is_unreadable() {
        let key = Key::generate();
        for bad in [&b""[..], b"\xff\xfe", b"not base64 !", b"AAAA", b"gAAAAA", b"{\"v\":1}"] {
            assert!(matches!(open(&key, bad, None), Err(SecureError::Unreadable { .. })), "{bad:?}");
        }
        let mut short = seal(&key, b"hello");
        short.truncate(60);
        assert!(matches!(open(&key, &short, None), Err(SecureError::Unreadable { .. })));
    }

    #[test]
    fn key_files_missing_or_wrong_say_how_to_make_one() {
        let dir = std::env::temp_dir().join(format!("reparti-net-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let missing = dir.join("missing.key");
        let err = Key::from_file(&missing).err();
        assert!(matches!(err, Some(SecureError::KeyFileMissing { .. })));
        assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("reparti keygen"));
        let bad = dir.join("bad.key");
        std::fs::write(&bad, "hunter2\n").ok();
        let err = Key::from_file(&bad).err();
        assert!(matches!(err, Some(SecureError::NotAKey { .. })));
        assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("reparti keygen"));
        assert!(matches!(Key::from_file(&dir), Err(SecureError::KeyFileUnreadable { .. })));
        let good = dir.join("good.key");
        let key = Key::generate();
        std::fs::write(&good, format!("{}\n", key.as_text())).ok();
        assert_eq!(Key::from_file(&good).map(|k| k.as_text().to_string()), Ok(key.as_text().to_string()));
        assert_eq!(format!("{key:?}"), "Key(<redacted>)");
        std::fs::remove_dir_all(&dir).ok();
    }
}

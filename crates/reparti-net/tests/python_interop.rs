//! Fernet interoperability with real Python (`cryptography.fernet`), both directions.
//!
//! Each test runs `python3`; when it or `cryptography` is missing, the test says why on
//! stderr and passes without checking (CI installs both with `pip install cryptography`).

use reparti_algos::election::chang_roberts;
use reparti_core::NodeId;
use reparti_net::secure::{open, seal, Key, SecureError};
use reparti_net::wire::{decode, encode, Envelope, Wire};
use std::path::Path;
use std::process::Command;

const DOC_DATAGRAM: &str = r#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#;

/// Whether `python3` with `cryptography` can run here; prints why not.
fn python_available() -> bool {
    match Command::new("python3").args(["-c", "import cryptography"]).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            eprintln!("skipped: python3 cannot import cryptography ({})", String::from_utf8_lossy(&out.stderr).trim());
            false
        }
        Err(e) => {
            eprintln!("skipped: cannot run python3 ({e})");
            false
        }
    }
}

/// Runs a Python script with arguments and returns its stdout lines.
fn python(script: &str, args: &[&Path]) -> Vec<String> {
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3 runs");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

fn doc_envelope() -> Envelope<chang_roberts::Msg> {
    Envelope { from: NodeId(2), to: NodeId(3), lamport: 7, vc: None, seq: None, body: chang_roberts::Msg::Elect(5) }
}

#[test]
fn python_seals_rust_opens() {
    if !python_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("k.key");
    let script = format!(
        "import sys\nfrom cryptography.fernet import Fernet\nk = Fernet.generate_key()\n\
         open(sys.argv[1], 'wb').write(k)\nprint(Fernet(k).encrypt({DOC_DATAGRAM:?}.encode()).decode())"
    );
    let lines = python(&script, &[&key_file]);
    let key = Key::from_file(&key_file).expect("Python's key file loads");
    let plain = open(&key, lines[0].as_bytes(), Some(60)).expect("Python's token opens");
    assert_eq!(plain, DOC_DATAGRAM.as_bytes());
    assert_eq!(decode::<chang_roberts::Msg>(&plain), Ok(doc_envelope()));
}

#[test]
fn rust_seals_python_opens() {
    if !python_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let key = Key::generate();
    let key_file = dir.path().join("k.key");
    std::fs::write(&key_file, format!("{}\n", key.as_text())).expect("write key");
    // A JSON envelope, and a binary one (arbitrary bytes, not text).
    let json = encode(&doc_envelope(), Wire::Json);
    let binary = encode(&doc_envelope(), Wire::Binary);
    let tokens = dir.path().join("tokens");
    let wrong = seal(&Key::generate(), &json);
    let lines: Vec<Vec<u8>> = vec![seal(&key, &json), seal(&key, &binary), wrong];
    std::fs::write(&tokens, lines.join(&b'\n')).expect("write tokens");
    let script = "import sys\nfrom cryptography.fernet import Fernet, InvalidToken\n\
                  f = Fernet(open(sys.argv[1], 'rb').read().strip())\n\
                  for t in open(sys.argv[2], 'rb').read().split(b'\\n'):\n\
                  \x20   try: print(f.decrypt(t, ttl=60).hex())\n\
                  \x20   except InvalidToken: print('InvalidToken')";
    let out = python(script, &[&key_file, &tokens]);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(out, [hex(&json), hex(&binary), "InvalidToken".to_string()]);
}

#[test]
fn python_tokens_under_a_wrong_key_tampered_or_expired_are_refused() {
    if !python_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("k.key");
    let script = format!(
        "import sys, time, base64\nfrom cryptography.fernet import Fernet\n\
         k = Fernet.generate_key()\nopen(sys.argv[1], 'wb').write(k)\nf = Fernet(k)\nm = {DOC_DATAGRAM:?}.encode()\n\
         print(Fernet(Fernet.generate_key()).encrypt(m).decode())\n\
         raw = bytearray(base64.urlsafe_b64decode(f.encrypt(m)))\nraw[30] ^= 1\n\
         print(base64.urlsafe_b64encode(bytes(raw)).decode())\n\
         print(f.encrypt_at_time(m, int(time.time()) - 3600).decode())"
    );
    let lines = python(&script, &[&key_file]);
    let key = Key::from_file(&key_file).expect("key loads");
    assert_eq!(open(&key, lines[0].as_bytes(), Some(60)), Err(SecureError::Unauthentic), "wrong key");
    assert_eq!(open(&key, lines[1].as_bytes(), Some(60)), Err(SecureError::Unauthentic), "tampered");
    match open(&key, lines[2].as_bytes(), Some(60)) {
        Err(SecureError::Expired { age, ttl: 60 }) => assert!((3600..3700).contains(&age), "age {age}"),
        other => panic!("expected Expired, got {other:?}"),
    }
    // Without a TTL the old token is authentic and opens, as in Python.
    assert_eq!(open(&key, lines[2].as_bytes(), None).as_deref(), Ok(DOC_DATAGRAM.as_bytes()));
}

#[test]
fn the_documented_python_example_speaks_the_protocol() {
    if !python_available() {
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python/wire_example.py");
    let dir = tempfile::tempdir().expect("temp dir");
    let key = Key::generate();
    let key_file = dir.path().join("k.key");
    std::fs::write(&key_file, key.as_text()).expect("write key");
    let out = Command::new("python3").arg(&example).arg(&key_file).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], DOC_DATAGRAM);
    let plain = open(&key, lines[2].as_bytes(), Some(60)).expect("the example's token opens");
    assert_eq!(decode::<chang_roberts::Msg>(&plain), Ok(doc_envelope()));
}

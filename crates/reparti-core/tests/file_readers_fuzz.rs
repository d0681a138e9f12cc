//! The file readers of reparti-core under random and mutated input: a trace and an
//! edge-list topology file either read as a value that respects their rules or are
//! refused with an error — never a panic, never an allocation sized by a number in the
//! file rather than by the file itself.

use proptest::prelude::*;
use reparti_core::trace::{read_trace, EventKind, TraceEvent, TraceWriter};
use reparti_core::user_file;
use reparti_core::{NodeId, Topology};

mod common;

/// A valid trace of three nodes: start, send, receive, output, and the closing line.
fn valid_trace() -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new(), &common::trace_header()).expect("in memory");
    let mut e = TraceEvent::new(0, 0.0, 0, EventKind::Start, 0);
    e.vc = Some(vec![0, 0, 0]);
    w.event(&e).expect("in memory");
    let mut send = TraceEvent::new(1, 0.0, 0, EventKind::Send, 1);
    (send.msg, send.to, send.msg_type, send.vc) = (Some(0), Some(1), Some("ELECT".into()), Some(vec![1, 0, 0]));
    w.event(&send).expect("in memory");
    let mut recv = TraceEvent::new(2, 1.0, 1, EventKind::Receive, 2);
    (recv.msg, recv.from, recv.msg_type, recv.vc) = (Some(0), Some(0), Some("ELECT".into()), Some(vec![1, 1, 0]));
    w.event(&recv).expect("in memory");
    let mut out = TraceEvent::new(3, 1.0, 1, EventKind::Output, 2);
    (out.key, out.value) = (Some("leader".into()), Some(3u64.into()));
    w.event(&out).expect("in memory");
    w.finish("quiescence", None).expect("in memory")
}

/// One edit of a byte string: flip, insert, delete, duplicate a span, or truncate.
#[derive(Clone, Debug)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Repeat(usize, usize, u8),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to JSON and edge lists, and some that do not.
    let byte = prop_oneof![
        Just(b'"'),
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b']'),
        Just(b','),
        Just(b':'),
        Just(b'\n'),
        Just(b'-'),
        Just(b'>'),
        Just(b'#'),
        Just(b' '),
        b'0'..=b'9',
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), prop::collection::vec(byte.clone(), 1..12)).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 1usize..6, 0u8..4).prop_map(|(i, n, k)| Edit::Repeat(i, n, k)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Set(i, b) if !bytes.is_empty() => bytes[i % len] = *b,
            Edit::Set(..) => {}
            Edit::Insert(i, b) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Edit::Repeat(i, n, times) => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                let span: Vec<u8> = bytes.get(at..end).unwrap_or_default().to_vec();
                for _ in 0..*times {
                    bytes.splice(end..end, span.iter().copied());
                }
            }
            Edit::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
        }
    }
    bytes
}

/// What an accepted trace promises its readers: every event fits the header.
fn assert_trace_fits(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(t) = read_trace(bytes) {
        prop_assert_eq!(t.header.idents.len(), t.header.nodes);
        for e in &t.events {
            prop_assert!((e.node as usize) < t.header.nodes, "event at {} of {}", e.node, t.header.nodes);
            if let Some(vc) = &e.vc {
                prop_assert_eq!(vc.len(), t.header.nodes);
            }
            if let (EventKind::Receive, Some(from)) = (e.kind, e.from) {
                prop_assert!((from as usize) < t.header.nodes);
            }
        }
    }
    Ok(())
}

/// A temporary edge-list file holding `bytes`.
fn edge_file(bytes: &[u8]) -> tempfile_like::TempFile {
    let f = tempfile_like::TempFile::new();
    f.write(bytes);
    f
}

/// A scratch file removed on drop (reparti-core has no tempfile dependency).
mod tempfile_like {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU64, Ordering};

    static NEXT: AtomicU64 = AtomicU64::new(0);

    pub struct TempFile(pub PathBuf);

    impl TempFile {
        pub fn new() -> Self {
            let k = NEXT.fetch_add(1, Ordering::Relaxed);
            TempFile(std::env::temp_dir().join(format!("reparti-core-fuzz-{}-{k}.txt", std::process::id())))
        }
        pub fn write(&self, bytes: &[u8]) {
            std::fs::write(&self.0, bytes).expect("the temporary folder is writable");
        }
        pub fn path(&self) -> &str {
            self.0.to_str().expect("a UTF-8 temporary path")
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// What an accepted topology promises: neighbours are nodes of it, no self-loops, and
/// no more nodes than the file can justify.
fn assert_topology_sound(t: &Topology, text_len: usize) -> Result<(), TestCaseError> {
    prop_assert!(!t.is_empty());
    // Each edge costs at least 4 bytes ("a b\n"), and gaps are allowed up to 2^20 nodes.
    prop_assert!(t.len() <= (text_len / 2).max(1 << 20), "{} nodes from {} bytes", t.len(), text_len);
    for a in 0..t.len() as u32 {
        for b in t.neighbours(NodeId(a)) {
            prop_assert!(b.index() < t.len());
            prop_assert_ne!(b.0, a);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_trace_is_read_or_refused(edits in prop::collection::vec(edit(), 1..6)) {
        assert_trace_fits(&apply(valid_trace(), &edits))?;
    }

    #[test]
    fn random_bytes_are_not_a_trace(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert!(read_trace(bytes.as_slice()).is_err() || assert_trace_fits(&bytes).is_ok());
    }

    #[test]
    fn a_trace_with_a_number_changed_still_fits_its_header(
        field in prop::sample::select(vec!["\"nodes\":3", "\"node\":1", "\"from\":0", "\"lamport\":2"]),
        value in prop::sample::select(vec![0u64, 1, 2, 3, 4, 255, 4_294_967_295, u64::MAX]),
    ) {
        let text = String::from_utf8(valid_trace()).expect("UTF-8");
        let name = field.split(':').next().unwrap_or_default();
        let changed = text.replacen(field, &format!("{name}:{value}"), 1);
        assert_trace_fits(changed.as_bytes())?;
    }

    #[test]
    fn a_mutated_edge_list_file_is_read_or_refused(
        edges in prop::collection::vec((0u32..30, 0u32..30, any::<bool>()), 1..40),
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let mut text = String::from("# an edge list\n");
        for (a, b, directed) in edges {
            text.push_str(&if directed { format!("{a} -> {b}\n") } else { format!("{a} {b}\n") });
        }
        let bytes = apply(text.into_bytes(), &edits);
        let file = edge_file(&bytes);
        match Topology::from_edge_list_file(file.path(), 0) {
            Ok(t) => assert_topology_sound(&t, bytes.len())?,
            Err(e) => prop_assert!(!e.to_string().contains('\n'), "two lines: {e}"),
        }
    }

    #[test]
    fn random_text_is_read_or_refused_as_an_edge_list(
        text in "([0-9]{1,11}|->| |\t|#|\n|x|-){0,60}",
    ) {
        let file = edge_file(text.as_bytes());
        if let Ok(t) = Topology::from_edge_list_file(file.path(), 0) {
            assert_topology_sound(&t, text.len())?;
        }
    }
}

#[test]
fn one_far_node_number_does_not_make_billions_of_nodes() {
    for text in ["0 2000000000\n", "0 -> 2147483646\n", "0 1\n1 1048576\n"] {
        let why = Topology::from_edge_list(text, 0).expect_err("refused");
        assert!(why.contains("out of range") && why.contains("without gaps"), "{text:?}: {why}");
    }
    // Gaps below 2^20 nodes stay allowed (isolated nodes are the file's business).
    assert_eq!(Topology::from_edge_list("0 1\n1 1000\n", 0).expect("allowed").len(), 1001);
}

#[test]
fn a_huge_sparse_edge_list_is_refused_without_reading_it() {
    let file = tempfile_like::TempFile::new();
    let f = std::fs::File::create(&file.0).expect("create");
    f.set_len(8 << 30).expect("a sparse file of 8 GiB");
    drop(f);
    let why = Topology::from_edge_list_file(file.path(), 0).expect_err("too large").to_string();
    assert!(why.contains("larger than 64.0 MiB") && why.contains("topology file"), "{why}");
}

#[test]
fn a_device_is_not_read_as_an_edge_list() {
    let why = Topology::from_edge_list_file("/dev/zero", 0).expect_err("a device").to_string();
    assert!(why.contains("character device") && !why.contains('\n'), "{why}");
}

#[test]
fn a_trace_line_over_its_cap_is_refused_on_its_line() {
    let mut text = valid_trace();
    // A header of 65 MiB: one identity list far longer than the cap.
    let mut huge = Vec::with_capacity((65 << 20) + 64);
    huge.extend_from_slice(b"{\"idents\":[");
    huge.resize((65 << 20) + 11, b'1');
    huge.push(b'\n');
    let err = read_trace(huge.as_slice()).expect_err("refused").to_string();
    assert!(err.contains("line 1") && err.contains("64.0 MiB") && err.contains("trace header"), "{err}");
    // An event line of 17 MiB after a valid header.
    let header_end = text.iter().position(|&b| b == b'\n').expect("a header line") + 1;
    text.truncate(header_end);
    text.resize(header_end + (17 << 20), b' ');
    text.push(b'\n');
    let err = read_trace(text.as_slice()).expect_err("refused").to_string();
    assert!(err.contains("line 2") && err.contains("16.0 MiB"), "{err}");
    assert_eq!(user_file::TRACE_EVENT_LINE.bytes, 16 << 20);
}

#[test]
fn the_trace_the_mutations_start_from_is_valid() {
    let t = read_trace(valid_trace().as_slice()).expect("valid");
    assert_eq!((t.events.len(), t.end.map(|e| e.events)), (4, Some(4)));
}

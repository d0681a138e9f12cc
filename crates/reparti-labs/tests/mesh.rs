//! The TP4 mesh on loopback: members joining through a registry file or a seed, Lamport
//! clocks on broadcasts (TP6), leaving, and refused datagrams.
//!
//! Every member binds port 0, every temporary registry file is the test's own, and every
//! wait is bounded by [`LIMIT`], so tests neither collide nor hang.

use reparti_labs::mesh::message::{decode, encode, MeshMessage};
use reparti_labs::mesh::{DropReason, MeshConfig, MeshError, MeshEvent, MeshNode};
use reparti_net::secure::{seal, Key};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio::time::{timeout_at, Instant};

/// Bound on any one wait: loopback delivers in microseconds; this is for a loaded machine.
const LIMIT: Duration = Duration::from_secs(10);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn through_registry(path: &Path) -> MeshConfig {
    MeshConfig { registry: Some(path.to_path_buf()), ..MeshConfig::new(loopback()) }
}

/// `n` members joining through `path` all at once.
async fn registry_mesh(path: &Path, n: usize) -> Vec<MeshNode> {
    let mut joins = JoinSet::new();
    for _ in 0..n {
        joins.spawn(MeshNode::join(through_registry(path)));
    }
    let mut members = Vec::new();
    while let Some(joined) = joins.join_next().await {
        members.push(joined.expect("join task").expect("joins"));
    }
    for i in 0..members.len() {
        let others: Vec<SocketAddr> =
            members.iter().filter(|m| m.addr() != members[i].addr()).map(MeshNode::addr).collect();
        settle(&mut members[i], |m| m.peers().len() == others.len()).await;
        assert_eq!(members[i].peers(), sorted(others), "member {i}'s view");
    }
    members
}

fn sorted(mut addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    addrs.sort();
    addrs
}

/// Handles `member`'s events until `done` holds of it.
async fn settle(member: &mut MeshNode, done: impl Fn(&MeshNode) -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done(member) {
        match timeout_at(deadline, member.next_event()).await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{} stopped receiving", member.addr()),
            Err(_) => panic!("{} did not settle; it knows {:?}", member.addr(), member.peers()),
        }
    }
}

/// The next event of `member` that `wanted` accepts, skipping the others.
async fn expect_event(member: &mut MeshNode, wanted: impl Fn(&MeshEvent) -> bool) -> MeshEvent {
    let deadline = Instant::now() + LIMIT;
    loop {
        match timeout_at(deadline, member.next_event()).await {
            Ok(Some(event)) if wanted(&event) => return event,
            Ok(Some(_)) => {}
            Ok(None) => panic!("{} stopped receiving", member.addr()),
            Err(_) => panic!("{} never saw the expected event", member.addr()),
        }
    }
}

/// The next message `member` receives, as (from, text, stamp, clock after).
async fn next_message(member: &mut MeshNode) -> (SocketAddr, String, u64, u64) {
    match expect_event(member, |e| matches!(e, MeshEvent::Message { .. })).await {
        MeshEvent::Message { from, text, lamport, clock } => (from, text, lamport, clock),
        _ => unreachable!("filtered above"),
    }
}

/// The addresses in the registry file, one per non-empty line.
fn registry_lines(path: &Path) -> Vec<SocketAddr> {
    let text = std::fs::read_to_string(path).expect("read the registry");
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| l.trim().parse().expect("an address per line")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_members_joining_at_once_all_meet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("BDD.txt");
    let members = registry_mesh(&path, 4).await;
    let lines = registry_lines(&path);
    assert_eq!(lines.len(), 4, "one line per member: {lines:?}");
    let distinct: BTreeSet<SocketAddr> = lines.into_iter().collect();
    assert_eq!(distinct, members.iter().map(MeshNode::addr).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_every_other_member_once_with_lamport_stamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("BDD.txt");
    let mut members = registry_mesh(&path, 4).await;
    // One member's clock ahead of the stamp, so that max() matters.
    for _ in 0..5 {
        members[1].local_event();
    }
    assert_eq!(members[1].clock(), 5);
    let sender = members[0].addr();
    // Read before sending: a receiver's task may apply the message before we look.
    let before: Vec<u64> = members.iter().map(MeshNode::clock).collect();
    assert_eq!(members[0].broadcast("hello").await.expect("broadcast"), 1, "send: HL + 1, then stamp");
    assert_eq!(members[0].clock(), 1);
    for (member, before) in members[1..].iter_mut().zip(&before[1..]) {
        let (from, text, stamp, clock) = next_message(member).await;
        assert_eq!((from, text.as_str(), stamp), (sender, "hello", 1));
        assert_eq!(clock, before.max(&1) + 1, "receive: HL = max(HL, H) + 1");
        assert_eq!(member.clock(), clock);
    }
    // The next message after "hello" is the next broadcast: "hello" came exactly once.
    assert_eq!(members[0].broadcast("marker").await.expect("broadcast"), 2);
    for member in &mut members[1..] {
        let (from, text, stamp, _) = next_message(member).await;
        assert_eq!((from, text.as_str(), stamp), (sender, "marker", 2));
    }
    // Back the other way: member 1's clock (5 → 6 → 7) is far ahead of member 0's (2).
    assert_eq!(members[1].clock(), 7);
    assert_eq!(members[1].send(sender, "pong").await.expect("send"), 8);
    let (from, text, stamp, clock) = next_message(&mut members[0]).await;
    assert_eq!((from, text.as_str(), stamp, clock), (members[1].addr(), "pong", 8, 9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_leaves_disappears_from_the_file_and_every_view() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("BDD.txt");
    let mut members = registry_mesh(&path, 4).await;
    let leaving = members.pop().expect("four members");
    let gone = leaving.addr();
    leaving.leave().await.expect("leaves");
    assert!(!registry_lines(&path).contains(&gone));
    assert_eq!(registry_lines(&path).len(), 3);
    for member in &mut members {
        assert_eq!(expect_event(member, |e| matches!(e, MeshEvent::Left(_))).await, MeshEvent::Left(gone));
        assert!(!member.peers().contains(&gone));
        assert_eq!(member.peers().len(), 2);
    }
    // The survivors still talk.
    members[0].broadcast("still here").await.expect("broadcast");
    assert_eq!(next_message(&mut members[2]).await.1, "still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_meet_through_a_seed() {
    let mut seed = MeshNode::join(MeshConfig::new(loopback())).await.expect("a lone first member");
    assert!(seed.peers().is_empty());
    let through_seed = MeshConfig { seed: Some(seed.addr()), ..MeshConfig::new(loopback()) };
    let (a, b) = tokio::join!(MeshNode::join(through_seed.clone()), MeshNode::join(through_seed));
    let mut members = vec![a.expect("a joins"), b.expect("b joins")];
    let everyone: Vec<SocketAddr> = members.iter().map(MeshNode::addr).chain([seed.addr()]).collect();
    settle(&mut seed, |m| m.peers().len() == 2).await;
    for member in &mut members {
        settle(member, |m| m.peers().len() == 2).await;
        let others = everyone.iter().copied().filter(|a| *a != member.addr()).collect();
        assert_eq!(member.peers(), sorted(others));
    }
    members[1].broadcast("via the seed").await.expect("broadcast");
    assert_eq!(next_message(&mut seed).await.1, "via the seed");
    assert_eq!(next_message(&mut members[0]).await.1, "via the seed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_style_newcomer_is_answered_by_its_seed() {
    let mut seed = MeshNode::join(MeshConfig::new(loopback())).await.expect("a lone member");
    let other = MeshNode::join(MeshConfig { seed: Some(seed.addr()), ..MeshConfig::new(loopback()) }).await.unwrap();
    settle(&mut seed, |m| m.peers().len() == 1).await;
    let python = UdpSocket::bind(loopback()).await.unwrap();
    let me = python.local_addr().unwrap();
    let hello = br#"{"v": 1, "from": "ME", "type": "HELLO", "body": {"ask_peers": true}}"#;
    let hello = String::from_utf8_lossy(hello).replace("ME", &me.to_string());
    python.send_to(hello.as_bytes(), seed.addr()).await.unwrap();
    let mut buf = vec![0; 65536];
    let (len, _) = tokio::time::timeout(LIMIT, python.recv_from(&mut buf)).await.expect("an answer").unwrap();
    let (from, answer) = decode(&buf[..len]).expect("a mesh message");
    assert_eq!(from, seed.addr());
    assert_eq!(answer, MeshMessage::Peers(vec![seed.addr(), other.addr()]), "the seed, then the members it knows");
    expect_event(&mut seed, |e| *e == MeshEvent::Joined(me)).await;
    assert!(seed.peers().contains(&me));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_seed_and_a_double_configuration_are_refused() {
    let nobody = std::net::UdpSocket::bind(loopback()).unwrap();
    let silent = nobody.local_addr().unwrap();
    let cfg =
        MeshConfig { seed: Some(silent), join_timeout: Duration::from_millis(250), ..MeshConfig::new(loopback()) };
    let err = MeshNode::join(cfg).await.err().expect("nobody answers");
    assert!(matches!(err, MeshError::SeedSilent { seed, .. } if seed == silent), "{err}");
    assert!(err.to_string().contains(&silent.to_string()));

    let dir = tempfile::tempdir().unwrap();
    let both = MeshConfig { seed: Some(silent), ..through_registry(&dir.path().join("BDD.txt")) };
    assert!(matches!(MeshNode::join(both).await, Err(MeshError::Config(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_bound_address_is_refused_and_a_stale_one_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("BDD.txt");
    let mut running = MeshNode::join(through_registry(&path)).await.expect("joins");
    let taken = MeshConfig { listen: running.addr(), ..through_registry(&path) };
    let err = MeshNode::join(taken).await.err().expect("the address is taken");
    assert!(matches!(err, MeshError::AddressTaken { addr, .. } if addr == running.addr()), "{err}");
    let text = err.to_string();
    assert!(text.contains(&running.addr().to_string()) && text.contains("registry"), "{text}");
    assert_eq!(registry_lines(&path), vec![running.addr()], "the refused join wrote nothing");

    // A member that died without leaving: its line stays, its port is free.
    let stale = std::net::UdpSocket::bind(loopback()).unwrap().local_addr().unwrap();
    std::fs::write(&path, format!("{}\n{}\n", running.addr(), stale)).unwrap();
    let reborn = MeshNode::join(MeshConfig { listen: stale, ..through_registry(&path) }).await.expect("reuses");
    assert_eq!(reborn.addr(), stale);
    assert_eq!(registry_lines(&path), vec![running.addr(), stale], "reused, not added twice");
    assert_eq!(reborn.peers(), vec![running.addr()]);
    settle(&mut running, |m| m.peers() == vec![stale]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_datagrams_are_dropped_and_counted() {
    let mut member = MeshNode::join(MeshConfig::new(loopback())).await.expect("a lone member");
    let stranger = UdpSocket::bind(loopback()).await.unwrap();
    let garbage: &[&[u8]] = &[
        b"",
        b"\xff\x00\x13",
        b"hello",
        br#"{"v":2,"from":"127.0.0.1:1","type":"BYE"}"#,
        br#"{"v":1,"from":"somewhere","type":"BYE"}"#,
        br#"{"v":1,"from":"127.0.0.1:1","type":"ELECT","body":{"ELECT":5}}"#,
        br#"{"v":1,"from":"127.0.0.1:1","type":"MSG","body":{"text":"no clock"}}"#,
        br#"{"v":1,"from":"127.0.0.1:1","type":"PEERS","body":"everyone"}"#,
    ];
    for datagram in garbage {
        stranger.send_to(datagram, member.addr()).await.unwrap();
    }
    for _ in garbage {
        let dropped = expect_event(&mut member, |_| true).await;
        assert!(
            matches!(&dropped, MeshEvent::Dropped { from, reason: DropReason::Malformed, .. } if *from == stranger.local_addr().unwrap()),
            "{dropped:?}"
        );
    }
    assert_eq!(member.stats().dropped_malformed, garbage.len() as u64);
    // Still alive, and a non-member's well-formed MSG is delivered.
    let from = stranger.local_addr().unwrap();
    let msg = encode(from, &MeshMessage::Msg { text: "after the garbage".into(), clock: 41 });
    stranger.send_to(&msg, member.addr()).await.unwrap();
    assert_eq!(next_message(&mut member).await, (from, "after the garbage".to_string(), 41, 42));
    assert!(member.peers().is_empty(), "a MSG alone does not make a member");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_mesh_refuses_plaintext_and_other_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate();
    let keyed = MeshConfig { key: Some(key.clone()), ..through_registry(&dir.path().join("BDD.txt")) };
    let mut a = MeshNode::join(keyed.clone()).await.expect("a joins");
    let mut b = MeshNode::join(keyed).await.expect("b joins");
    settle(&mut a, |m| m.peers() == vec![b.addr()]).await;
    a.broadcast("secret").await.expect("broadcast");
    assert_eq!(next_message(&mut b).await.1, "secret");

    let intruder = UdpSocket::bind(loopback()).await.unwrap();
    let forged = encode(intruder.local_addr().unwrap(), &MeshMessage::Msg { text: "plain".into(), clock: 1 });
    intruder.send_to(&forged, b.addr()).await.unwrap();
    intruder.send_to(&seal(&Key::generate(), &forged), b.addr()).await.unwrap();
    for _ in 0..2 {
        let event = expect_event(&mut b, |e| matches!(e, MeshEvent::Dropped { .. })).await;
        assert!(matches!(event, MeshEvent::Dropped { reason: DropReason::Crypto, .. }), "{event:?}");
    }
    assert_eq!(b.stats().dropped_crypto, 2);
    // The sealed form of the same message is accepted.
    intruder.send_to(&seal(&key, &forged), b.addr()).await.unwrap();
    assert_eq!(next_message(&mut b).await.1, "plain");
}

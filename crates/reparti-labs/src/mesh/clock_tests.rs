//! TP6's rules, one test each, on a real member over loopback: a start at 0, a local
//! event, a send, a receive — for the Lamport clock and the vector clock alike. The other
//! side is a bare UDP socket speaking the wire format, so every stamp is seen as sent.

use super::message::{decode, encode, MeshMessage};
use super::{Clocks, MeshConfig, MeshEvent, MeshNode, Receipt, VectorClock};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

/// Bound on any wait: loopback delivers in microseconds; this is for a loaded machine.
const LIMIT: Duration = Duration::from_secs(10);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn vector(entries: &[(SocketAddr, u64)]) -> VectorClock {
    entries.iter().copied().collect()
}

/// A lone member, and a socket playing another member.
async fn member_and_peer() -> (MeshNode, UdpSocket, SocketAddr) {
    let member = MeshNode::join(MeshConfig::new(loopback())).await.expect("a lone member");
    let peer = UdpSocket::bind(loopback()).await.expect("bind the peer");
    let peer_addr = peer.local_addr().expect("the peer's address");
    (member, peer, peer_addr)
}

/// What the peer socket receives next, decoded.
async fn received(peer: &UdpSocket) -> (SocketAddr, MeshMessage) {
    let mut buf = vec![0; 65536];
    let (len, _) = tokio::time::timeout(LIMIT, peer.recv_from(&mut buf)).await.expect("a datagram").expect("recv");
    decode(&buf[..len]).expect("a mesh message")
}

/// The member's next message event, with its receipt.
async fn next_receipt(member: &mut MeshNode) -> (String, Receipt) {
    loop {
        match tokio::time::timeout(LIMIT, member.next_stamped_event()).await.expect("an event") {
            Some((MeshEvent::Message { text, .. }, Some(receipt))) => return (text, receipt),
            Some((MeshEvent::Message { .. }, None)) => panic!("a message without its receipt"),
            Some(_) => {}
            None => panic!("the member stopped receiving"),
        }
    }
}

#[tokio::test]
async fn both_clocks_start_at_zero() {
    let (member, _peer, _) = member_and_peer().await;
    assert_eq!(member.clock(), 0);
    assert!(member.vclock().is_zero());
    assert_eq!(member.clocks(), Clocks { lamport: 0, vector: VectorClock::new() });
    assert_eq!(member.vclock().to_string(), "{}");
}

#[tokio::test]
async fn a_local_event_adds_one_to_each() {
    let (member, _peer, _) = member_and_peer().await;
    let me = member.addr();
    assert_eq!(member.tick(), Clocks { lamport: 1, vector: vector(&[(me, 1)]) });
    assert_eq!(member.local_event(), 2, "the Lamport-only form ticks both as well");
    assert_eq!(member.clocks(), Clocks { lamport: 2, vector: vector(&[(me, 2)]) });
}

#[tokio::test]
async fn a_send_adds_one_then_stamps() {
    let (member, peer, peer_addr) = member_and_peer().await;
    let me = member.addr();
    member.tick();
    let stamps = member.send_stamped(peer_addr, "hello").await.expect("send");
    assert_eq!(stamps, Clocks { lamport: 2, vector: vector(&[(me, 2)]) }, "+1, then stamped");
    assert_eq!(member.clocks(), stamps, "the clocks stay where the send left them");
    let (from, msg) = received(&peer).await;
    assert_eq!(from, me);
    assert_eq!(msg, MeshMessage::Stamped { text: "hello".into(), clock: 2, vclock: vector(&[(me, 2)]) });
    // A broadcast to nobody is still a send event: one tick.
    assert_eq!(member.broadcast("alone").await.expect("broadcast"), 3);
    assert_eq!(member.vclock(), vector(&[(me, 3)]));
}

#[tokio::test]
async fn a_receive_takes_the_maximum_plus_one() {
    let (mut member, peer, peer_addr) = member_and_peer().await;
    let me = member.addr();
    member.tick();
    member.tick();
    // The stamp is ahead on the Lamport clock and on the peer's entry, behind on ours.
    let ahead = vector(&[(peer_addr, 3), (me, 1)]);
    let msg = MeshMessage::Stamped { text: "ahead".into(), clock: 10, vclock: ahead.clone() };
    peer.send_to(&encode(peer_addr, &msg), me).await.expect("send");
    let (text, receipt) = next_receipt(&mut member).await;
    assert_eq!(text, "ahead");
    assert_eq!((receipt.lamport, receipt.vector), (10, Some(ahead)), "the sender's stamps");
    let after = Clocks { lamport: 11, vector: vector(&[(me, 3), (peer_addr, 3)]) };
    assert_eq!(receipt.after, after, "HL = max(2, 10) + 1; V = max(V, W), then V[me] + 1");
    assert_eq!(member.clocks(), after);

    // Now the stamp is behind: our clock wins the max. A member keeping only Lamport's
    // clock sends no vector: nothing to merge, but the receive still ticks our entry.
    let behind = MeshMessage::Msg { text: "behind".into(), clock: 4 };
    peer.send_to(&encode(peer_addr, &behind), me).await.expect("send");
    let (_, receipt) = next_receipt(&mut member).await;
    assert_eq!((receipt.lamport, receipt.vector), (4, None));
    assert_eq!(receipt.after, Clocks { lamport: 12, vector: vector(&[(me, 4), (peer_addr, 3)]) });
}

#[tokio::test]
async fn the_plumbing_leaves_the_clocks_alone() {
    let (mut member, peer, peer_addr) = member_and_peer().await;
    let me = member.addr();
    peer.send_to(&encode(peer_addr, &MeshMessage::Hello { ask_peers: false }), me).await.expect("send");
    let event = tokio::time::timeout(LIMIT, member.next_stamped_event()).await.expect("an event");
    assert_eq!(event, Some((MeshEvent::Joined(peer_addr), None)));
    assert_eq!(member.clocks(), Clocks::default(), "HELLO is not an event of the application");
}

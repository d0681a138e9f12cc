//! The registry ring's sans-IO core, in a simulated world: a registry (a list), datagrams
//! in order between each pair of nodes, readings of the registry that arrive late (made
//! before a change, handed over after it), nodes joining and leaving at any moment.
//! Exactly one token, in a holder or in flight, at every step of every schedule.

use super::node::{Effect, Event, RingNode, Setup};
use super::wire::{self, Envelope, Port, RingMessage};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

fn addr(port: Port) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn registry_node(me: Port, first: bool, hold: Option<Duration>) -> RingNode {
    RingNode::new(Setup { me, addr: addr(me), predecessor: None, jeton: first, laps: None, hold })
}

/// A small deterministic generator (xorshift): schedules differ by seed, and a failing
/// seed replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The simulated world.
#[derive(Default)]
struct World {
    now: Duration,
    registry: Vec<SocketAddr>,
    nodes: BTreeMap<Port, RingNode>,
    /// Datagrams in flight, in order per (from, to).
    wires: BTreeMap<(Port, Port), VecDeque<Envelope>>,
    /// A reading made earlier, not yet handed to its node.
    pending_reading: BTreeMap<Port, Vec<SocketAddr>>,
    /// Every line said, with its node.
    lines: Vec<(Port, String)>,
    stopped: BTreeSet<Port>,
    /// Token passes seen, in order of sending.
    passes: Vec<u64>,
}

impl World {
    fn absorb(&mut self, port: Port, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send { to, envelope } => {
                    if let RingMessage::Token(pass) = envelope.msg {
                        self.passes.push(pass.expect("the registry ring numbers its passes"));
                    }
                    self.wires.entry((port, to.port())).or_default().push_back(envelope);
                }
                Effect::Say(_, line) => self.lines.push((port, line)),
                Effect::Deregister => {
                    self.registry.retain(|a| a.port() != port);
                    let left = self.registry.clone();
                    self.act(port, Event::Deregistered(&left));
                }
                Effect::Quit => {
                    let node = self.nodes.remove(&port).expect("a running node quits");
                    let last = self.registry.is_empty();
                    assert!(!node.has_token() || last, "{port} stopped with the token in a ring of others");
                    assert!(node.report().problems.is_empty(), "{port}: {:?}", node.report().problems);
                    self.stopped.insert(port);
                }
            }
        }
    }

    /// Hands `event` to the running node `port`, and carries out what it asks.
    fn act(&mut self, port: Port, event: Event<'_>) {
        let now = self.now;
        let fx = self.nodes.get_mut(&port).expect("running").handle(now, event);
        self.absorb(port, fx);
    }

    fn join(&mut self, port: Port, hold: Option<Duration>) {
        let first = self.registry.is_empty();
        self.registry.push(addr(port));
        self.nodes.insert(port, registry_node(port, first, hold));
        self.act(port, Event::Start);
    }

    fn deliver(&mut self, wire: (Port, Port)) {
        let Some(envelope) = self.wires.get_mut(&wire).and_then(VecDeque::pop_front) else { return };
        let bytes = wire::encode(&envelope);
        let Some(node) = self.nodes.get_mut(&wire.1) else {
            let trace: Vec<String> = self.lines.iter().map(|(p, l)| format!("{p}: {l}")).collect();
            assert!(
                !matches!(envelope.msg, RingMessage::Token(_)),
                "a token was sent to {}, which had stopped:\n{}",
                wire.1,
                trace.join("\n")
            );
            return;
        };
        let fx = node.handle(self.now, Event::Datagram { src: addr(wire.0), plain: &bytes });
        self.absorb(wire.1, fx);
    }

    fn hand_reading(&mut self, port: Port) {
        let Some(reading) = self.pending_reading.remove(&port) else { return };
        if let Some(node) = self.nodes.get_mut(&port) {
            let fx = node.handle(self.now, Event::Members(&reading));
            self.absorb(port, fx);
        }
    }

    /// Tokens held plus tokens in flight.
    fn tokens(&self) -> usize {
        let held = self.nodes.values().filter(|n| n.has_token()).count();
        let flying = self.wires.values().flatten().filter(|e| matches!(e.msg, RingMessage::Token(_))).count();
        held + flying
    }

    fn leaving_now(&self) -> bool {
        self.nodes.keys().any(|p| !self.registry.contains(&addr(*p)))
    }
}

/// One random schedule: five nodes join at random moments, two leave (one at a time),
/// the token moves every 3 ms; readings are late at random.
fn one_schedule(seed: u64) -> World {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut world = World::default();
    let hold = Some(Duration::from_millis(3));
    let mut to_join: VecDeque<Port> = (1..=5).map(|i| 5000 + i).collect();
    let mut leaves_left = 2;
    world.join(to_join.pop_front().expect("a first node"), hold);
    for _ in 0..3000 {
        let running: Vec<Port> = world.nodes.keys().copied().collect();
        match rng.below(10) {
            0 if !to_join.is_empty() && rng.below(8) == 0 => {
                let port = to_join.pop_front().expect("checked");
                world.join(port, hold);
            }
            1 if leaves_left > 0 && running.len() > 2 && !world.leaving_now() && rng.below(20) == 0 => {
                leaves_left -= 1;
                let port = running[rng.below(running.len())];
                world.act(port, Event::Console("quit"));
            }
            2 => {
                // A reading made now, handed over later.
                let port = running[rng.below(running.len())];
                let reading = world.registry.clone();
                world.pending_reading.entry(port).or_insert(reading);
            }
            3 => {
                let port = running[rng.below(running.len())];
                world.hand_reading(port);
            }
            4 => {
                world.now += Duration::from_millis(1);
                for port in running {
                    if let Some(node) = world.nodes.get_mut(&port) {
                        let fx = node.handle(world.now, Event::Tick);
                        world.absorb(port, fx);
                    }
                }
            }
            _ => {
                let busy: Vec<(Port, Port)> =
                    world.wires.iter().filter(|(_, q)| !q.is_empty()).map(|(k, _)| *k).collect();
                if !busy.is_empty() {
                    world.deliver(busy[rng.below(busy.len())]);
                }
            }
        }
        assert_eq!(world.tokens(), 1, "seed {seed}: tokens held or in flight after a step");
    }
    world
}

#[test]
fn joins_and_leaves_under_way_keep_exactly_one_token() {
    let mut leaves = 0;
    let mut passes = 0;
    for seed in 0..60 {
        let world = one_schedule(seed);
        // Every pass has its own number, in sending order: one token, never two.
        let expected: Vec<u64> = (1..=world.passes.len() as u64).collect();
        assert_eq!(world.passes, expected, "seed {seed}");
        leaves += world.stopped.len();
        passes += world.passes.len();
    }
    // The schedules did exercise leaving and passing (not a vacuous pass).
    assert!(leaves >= 30, "only {leaves} leaves in 60 schedules");
    assert!(passes >= 1000, "only {passes} passes in 60 schedules");
}

#[test]
fn a_joiner_is_spliced_in_by_its_neighbours_reading() {
    let mut world = World::default();
    world.join(5001, None);
    world.join(5003, None);
    for port in [5001, 5003] {
        world.pending_reading.insert(port, world.registry.clone());
        world.hand_reading(port);
    }
    assert!(world
        .lines
        .iter()
        .any(|(p, l)| *p == 5001 && l == "ring 5001 → 5003 → 5001: predecessor 5003, successor 5003"));
    world.join(5002, None);
    let reading = world.registry.clone();
    for port in [5001, 5002, 5003] {
        world.pending_reading.insert(port, reading.clone());
        world.hand_reading(port);
    }
    let said = |port: Port, text: &str| world.lines.iter().any(|(p, l)| *p == port && l.contains(text));
    assert!(said(5001, "ring 5001 → 5002 → 5003 → 5001: predecessor 5003, successor 5002"));
    assert!(said(5002, "predecessor 5001, successor 5003"));
    assert!(!world.nodes[&5002].has_token(), "a joiner makes no token");
    world.act(5001, Event::Console("release"));
    assert_eq!(world.wires[&(5001, 5002)].len(), 1, "the token goes to the joiner");
}

#[test]
fn a_leaving_holder_passes_the_token_and_waits_for_every_member() {
    let mut world = World::default();
    for port in [5001, 5002, 5003] {
        world.join(port, None);
    }
    let reading = world.registry.clone();
    for port in [5001, 5002, 5003] {
        world.pending_reading.insert(port, reading.clone());
        world.hand_reading(port);
    }
    world.act(5001, Event::Console("release"));
    world.deliver((5001, 5002));
    assert!(world.nodes[&5002].has_token());
    // 5001 reads the registry late: a reading from before 5002 left comes after its LEAVE.
    world.pending_reading.insert(5001, world.registry.clone());
    world.act(5002, Event::Console("quit"));
    assert_eq!(world.tokens(), 1);
    let kinds = |w: &World, wire: (Port, Port)| -> Vec<&'static str> {
        w.wires.get(&wire).map(|q| q.iter().map(|e| e.msg.kind()).collect()).unwrap_or_default()
    };
    assert_eq!(kinds(&world, (5002, 5003)), ["TOKEN", "LEAVE"], "the token went on to 5003, then the news");
    assert_eq!(kinds(&world, (5002, 5001)), ["LEAVE"]);
    world.deliver((5002, 5001));
    world.hand_reading(5001); // stale: still lists 5002, which stays forgotten
    world.deliver((5001, 5002)); // LEAVE_OK
    assert!(world.nodes.contains_key(&5002), "still there: 5003 has not answered yet");
    world.deliver((5002, 5003));
    world.deliver((5002, 5003));
    world.deliver((5003, 5002)); // LEAVE_OK
    assert!(world.stopped.contains(&5002), "gone once every member answered");
    world.act(5003, Event::Console("release"));
    world.deliver((5003, 5001));
    world.act(5001, Event::Console("release"));
    assert!(world.wires.get(&(5001, 5002)).is_none_or(VecDeque::is_empty), "nothing more to 5002");
    assert_eq!(world.wires[&(5001, 5003)].len(), 1, "5001 passes to 5003 now");
    assert_eq!(world.passes, vec![1, 2, 3, 4]);
}

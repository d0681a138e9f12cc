//! Quantities an application conserves, which a snapshot must conserve too: the bank's
//! money is the classic one (Chandy and Lamport, 1985). A snapshot layer is generic
//! over every application; the applications that conserve something are named here, by
//! type, so that the layer can add the check for them and only them.

use super::bank;
use reparti_core::Process;
use std::any::{Any, TypeId};

/// How much of the quantity one value (a state, a message) holds.
pub type Amount<T> = Box<dyn Fn(&T) -> i64 + Send + Sync>;

/// A conserved quantity of the application `P`: how much a node's state holds, how
/// much a message carries, and how much a node held at the start.
pub struct Conserved<P: Process> {
    /// The property's name.
    pub name: &'static str,
    /// The amount a local state holds.
    pub in_state: Amount<P>,
    /// The amount a message in transit carries.
    pub in_message: Amount<P::Msg>,
    /// The amount a node held at the start (its share of the constant total).
    pub initial: Amount<P>,
}

/// The name of the bank's check on a snapshot.
pub const BANK_SNAPSHOT: &str = "snapshot: the bank's money over recorded local and channel states equals the total";

/// The quantity `P` conserves, if it is an application that conserves one.
pub fn of<P: Process>() -> Option<Conserved<P>> {
    if TypeId::of::<P>() != TypeId::of::<bank::Node>() {
        return None;
    }
    Some(Conserved {
        name: BANK_SNAPSHOT,
        in_state: Box::new(|p| as_bank(p).map_or(0, bank::money_held)),
        in_message: Box::new(|m| (m as &dyn Any).downcast_ref::<bank::Msg>().map_or(0, bank::money_carried)),
        initial: Box::new(|p| as_bank(p).map_or(0, bank::money_at_start)),
    })
}

fn as_bank<P: Any>(p: &P) -> Option<&bank::Node> {
    (p as &dyn Any).downcast_ref::<bank::Node>()
}

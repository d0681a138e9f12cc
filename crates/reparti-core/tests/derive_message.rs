//! `#[derive(Message)]` names kinds from variants, serde renames and explicit attributes,
//! and numbers them in declaration order.

use reparti_core::Message;
use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
enum Mixed {
    Token,
    #[serde(rename = "ELECT")]
    Elect(u64),
    NewRound {
        round: u32,
    },
    #[message(kind = "ACK")]
    #[serde(rename = "acknowledgement")]
    Acknowledge,
    HTTPRequest,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
struct Msg {
    body: String,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
#[message(kind = "HELLO")]
struct Greeting;

#[test]
fn enum_kinds_come_from_the_variants_in_order() {
    assert_eq!(Mixed::kinds(), &["TOKEN", "ELECT", "NEW_ROUND", "ACK", "HTTP_REQUEST"]);
    let all = [Mixed::Token, Mixed::Elect(3), Mixed::NewRound { round: 1 }, Mixed::Acknowledge, Mixed::HTTPRequest];
    for (k, m) in all.iter().enumerate() {
        assert_eq!(m.kind(), k);
        assert_eq!(m.kind_name(), Mixed::kinds()[k]);
    }
}

#[test]
fn a_struct_is_one_kind_named_after_it() {
    assert_eq!(Msg::kinds(), &["MSG"]);
    assert_eq!(Msg { body: "x".into() }.kind(), 0);
    assert_eq!(Greeting::kinds(), &["HELLO"]);
}

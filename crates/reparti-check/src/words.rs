//! States and messages in the algorithm's own words, for counterexamples a person reads.
//!
//! Rust's debug dumps (`Node { ident: 3, leader: None, got: Sides { … } }`) are what a
//! programmer reads, not what a teacher writes on the board. Every state and message is
//! `Serialize`, so one rendering serves every algorithm without each writing its own:
//! a state is its fields, `name=value`, nested structures by dotted paths
//! (`got.left=3`); a message is its type with its fields (`Id(round=1, id=3, dir=Left)`);
//! `None` is `–`. A change shows only the fields that changed (`round 1 → 2`).
//!
//! Fields keep their declaration order: the value is written as JSON (which serde does
//! field by field, in order) and read back into [`Tree`], whose maps are lists —
//! `serde_json::Value` would sort them by name.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use std::fmt::Debug;

/// A serialized value with its maps in the order they were written.
#[derive(Clone, PartialEq, Debug)]
enum Tree {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
    List(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tree, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Tree, E> {
        Ok(Tree::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Tree, E> {
        Ok(Tree::Number(n.into()))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Tree, E> {
        Ok(serde_json::Number::from_f64(x).map_or(Tree::Null, Tree::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Tree, E> {
        Ok(Tree::Text(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Tree, E> {
        Ok(Tree::Text(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(x) = seq.next_element()? {
            items.push(x);
        }
        Ok(Tree::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut fields = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Tree>()? {
            fields.push((k, v));
        }
        Ok(Tree::Map(fields))
    }
}

fn tree<T: Serialize>(x: &T) -> Option<Tree> {
    let text = serde_json::to_string(x).ok()?;
    serde_json::from_str(&text).ok()
}

/// A message as its variant and fields: `ELECT(5)`, `Token`, `Id(round=1, id=3, dir=Left)`.
pub fn message<M: Serialize + Debug>(m: &M) -> String {
    match tree(m) {
        Some(t) => value(&t),
        None => format!("{m:?}"),
    }
}

/// A node's state as its fields: `ident=3 leader=– round=1 got.left=3`.
pub fn state<S: Serialize + Debug>(s: &S) -> String {
    let Some(t) = tree(s) else { return format!("{s:?}") };
    let fields = flatten(&t);
    if fields.is_empty() {
        return value(&t);
    }
    fields.iter().map(|(path, v)| format!("{path}={}", value(v))).collect::<Vec<_>>().join(" ")
}

/// What changed between two states of a node, field by field: `round 1 → 2, got.left – → 3`.
/// `None` when they render alike.
pub fn change<S: Serialize + Debug>(before: &S, after: &S) -> Option<String> {
    let (Some(b), Some(a)) = (tree(before), tree(after)) else {
        let (b, a) = (format!("{before:?}"), format!("{after:?}"));
        return (b != a).then(|| format!("{b} → {a}"));
    };
    let (fb, fa) = (flatten(&b), flatten(&a));
    if fb.is_empty() || fa.is_empty() || fb.iter().map(|f| &f.0).ne(fa.iter().map(|f| &f.0)) {
        // Not a struct, or its shape changed (an enum state went to another variant).
        let (vb, va) = (value(&b), value(&a));
        return (vb != va).then(|| format!("{vb} → {va}"));
    }
    let changed: Vec<String> = fb
        .iter()
        .zip(&fa)
        .filter(|(x, y)| x.1 != y.1)
        .map(|((path, x), (_, y))| format!("{path} {} → {}", value(x), value(y)))
        .collect();
    (!changed.is_empty()).then(|| changed.join(", "))
}

/// A struct's fields as `(dotted path, leaf)`, in declaration order; nested structs are
/// opened, everything else (lists, variants, scalars) is a leaf. Empty for a non-struct.
fn flatten(t: &Tree) -> Vec<(String, &Tree)> {
    let mut out = Vec::new();
    if let Tree::Map(fields) = t {
        if !is_variant(fields) {
            for (k, x) in fields {
                push_field(&mut out, k.clone(), x);
            }
        }
    }
    out
}

fn push_field<'a>(out: &mut Vec<(String, &'a Tree)>, path: String, t: &'a Tree) {
    match t {
        Tree::Map(fields) if !fields.is_empty() && !is_variant(fields) && fields.iter().all(|(k, _)| is_field(k)) => {
            for (k, x) in fields {
                push_field(out, format!("{path}.{k}"), x);
            }
        }
        _ => out.push((path, t)),
    }
}

/// A struct's field name, not a map's key (`copies: {0: 1}` keyed by number is one
/// value, kept whole so that its first entry does not change the state's shape).
fn is_field(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
}

/// serde writes an enum variant with data as a map of one key, the variant's name;
/// fields are snake_case, variants capitalized: that tells them apart.
fn is_variant(fields: &[(String, Tree)]) -> bool {
    matches!(fields, [(k, _)] if k.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// One value, compactly: `–` for none, bare words for names, `[a, b]`, `Variant(x)`,
/// `{a=1, b=2}`.
fn value(t: &Tree) -> String {
    match t {
        Tree::Null => "–".to_string(),
        Tree::Bool(b) => b.to_string(),
        Tree::Number(n) => n.to_string(),
        Tree::Text(s) if is_word(s) => s.clone(),
        Tree::Text(s) => serde_json::Value::String(s.clone()).to_string(),
        Tree::List(items) => format!("[{}]", items.iter().map(value).collect::<Vec<_>>().join(", ")),
        Tree::Map(fields) => match fields.as_slice() {
            [(name, Tree::Map(inner))] if is_variant(fields) && !is_variant(inner) => {
                format!("{name}({})", fields_of(inner))
            }
            [(name, inner)] if is_variant(fields) => format!("{name}({})", value(inner)),
            _ => format!("{{{}}}", fields_of(fields)),
        },
    }
}

fn fields_of(fields: &[(String, Tree)]) -> String {
    fields.iter().map(|(k, x)| format!("{k}={}", value(x))).collect::<Vec<_>>().join(", ")
}

/// A name or number that reads unquoted: letters, digits, `_`, `-`, `.`.
fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize, Debug)]
    enum Dir {
        Left,
    }

    #[derive(Serialize, Debug)]
    enum Msg {
        Elect(u32),
        Id { round: u32, id: u32, dir: Dir },
        Token,
    }

    #[derive(Serialize, Debug)]
    struct Sides {
        left: Option<u32>,
        right: Option<u32>,
    }

    #[derive(Serialize, Debug)]
    struct Node {
        ident: u32,
        leader: Option<u32>,
        got: Sides,
        text: String,
    }

    #[test]
    fn messages_read_as_their_type_and_fields() {
        assert_eq!(message(&Msg::Elect(5)), "Elect(5)");
        assert_eq!(message(&Msg::Token), "Token");
        assert_eq!(message(&Msg::Id { round: 1, id: 3, dir: Dir::Left }), "Id(round=1, id=3, dir=Left)");
    }

    #[test]
    fn states_read_as_fields_with_dotted_paths() {
        let n = Node { ident: 3, leader: None, got: Sides { left: Some(1), right: None }, text: "hi there".into() };
        assert_eq!(state(&n), "ident=3 leader=– got.left=1 got.right=– text=\"hi there\"");
    }

    #[test]
    fn a_change_names_only_the_fields_that_changed() {
        let a = Node { ident: 3, leader: None, got: Sides { left: None, right: None }, text: String::new() };
        let b = Node { ident: 3, leader: Some(3), got: Sides { left: Some(2), right: None }, text: String::new() };
        assert_eq!(change(&a, &b).as_deref(), Some("leader – → 3, got.left – → 2"));
        assert_eq!(change(&a, &a), None);
        assert_eq!(change(&Msg::Token, &Msg::Elect(2)).as_deref(), Some("Token → Elect(2)"));
    }

    #[test]
    fn a_map_keyed_by_numbers_is_one_field_so_its_first_entry_is_a_change_not_a_new_shape() {
        #[derive(Serialize, Debug)]
        struct Copies {
            me: u32,
            copies: std::collections::BTreeMap<u32, i64>,
        }
        let a = Copies { me: 1, copies: Default::default() };
        let b = Copies { me: 1, copies: [(0, 5)].into() };
        assert_eq!(change(&a, &b).as_deref(), Some("copies {} → {0=5}"));
        assert_eq!(state(&b), "me=1 copies={0=5}");
    }
}

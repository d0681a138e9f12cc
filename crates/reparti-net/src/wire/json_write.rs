//! The JSON envelope written field by field: the very bytes `serde_json` writes for
//! [`super::JsonOut`], without its walk.
//!
//! Written through serde, each key went through the string escaper and each number
//! through the generic serializer: about 2,600 instructions an envelope, a quarter of a
//! JSON ring hop. Here the header is written directly — integers in decimal, strings
//! as they stand when nothing in them needs an escape (else `serde_json` writes that one
//! string) — and only the body goes through `serde_json`. A test holds the bytes equal
//! to `serde_json`'s.

use super::JsonOut;
use serde::Serialize;

/// Appends `n` in decimal.
#[inline]
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends `s` as a JSON string, as `serde_json` writes it.
#[inline]
fn push_str(out: &mut Vec<u8>, s: &str) -> Result<(), String> {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return serde_json::to_writer(&mut *out, s).map_err(|e| e.to_string());
    }
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Appends the envelope `e`: `{"v":…,"from":…,…,"body":…}` (optional fields left out
/// when absent, as `JsonOut` says).
pub(super) fn envelope<M: Serialize>(out: &mut Vec<u8>, e: &JsonOut<'_, M>) -> Result<(), String> {
    out.extend_from_slice(b"{\"v\":");
    push_u64(out, e.v);
    out.extend_from_slice(b",\"from\":");
    push_u64(out, u64::from(e.from));
    out.extend_from_slice(b",\"to\":");
    push_u64(out, u64::from(e.to));
    out.extend_from_slice(b",\"lamport\":");
    push_u64(out, e.lamport);
    if let Some(vc) = e.vc {
        out.extend_from_slice(b",\"vc\":[");
        for (i, &entry) in vc.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_u64(out, entry);
        }
        out.push(b']');
    }
    if let Some(seq) = e.seq {
        out.extend_from_slice(b",\"seq\":");
        push_u64(out, seq);
    }
    if let Some(run) = e.run {
        out.extend_from_slice(b",\"run\":");
        push_str(out, run)?;
    }
    out.extend_from_slice(b",\"type\":");
    push_str(out, e.kind)?;
    out.extend_from_slice(b",\"body\":");
    serde_json::to_writer(&mut *out, e.body).map_err(|err| err.to_string())?;
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::JsonOut;
    use reparti_algos::election::chang_roberts;
    use reparti_algos::mutex::ricart_agrawala;
    use serde::Serialize;

    fn same<M: Serialize>(e: &JsonOut<'_, M>) {
        let mut ours = Vec::new();
        super::envelope(&mut ours, e).expect("writes");
        let theirs = serde_json::to_vec(e).expect("serde_json writes");
        assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
    }

    #[test]
    fn the_bytes_are_serde_jsons() {
        let vc = [0, 1, 9, 10, 99, 12_345, u64::MAX];
        for (vc, seq, run) in [
            (None, None, None),
            (Some(&vc[..]), Some(0), Some("run-7")),
            (Some(&[][..]), Some(u64::MAX), Some("a \"quoted\" run\\ with\ta tab, é")),
        ] {
            for lamport in [0, 7, 10, u64::MAX] {
                let body = chang_roberts::Msg::Elect(5);
                same(&JsonOut { v: 1, from: 2, to: u32::MAX, lamport, vc, seq, run, kind: "ELECT", body: &body });
            }
        }
        // A type that needs escapes, a body with fields, a unit body.
        for (kind, seq, body) in [
            ("odd\"kind\n", Some(2), ricart_agrawala::Msg::Request { ts: 4, id: 1 }),
            ("REPLY", None, ricart_agrawala::Msg::Reply),
        ] {
            same(&JsonOut { v: 1, from: 0, to: 1, lamport: 3, vc: None, seq, run: None, kind, body: &body });
        }
    }
}

//! The part of EDN (Clojure's data notation) that Jepsen histories use, read into JSON
//! values: `nil`, `true`/`false`, integers, floats, strings, keywords (`:ok`, read as the
//! string `"ok"`), symbols, vectors `[…]`, lists `(…)`, sets `#{…}` (as arrays) and maps
//! `{…}` (as objects, their keys printed as text). Commas are whitespace; `;` starts a
//! comment; `#inst "…"` and other tagged values are read as the value they tag.
//!
//! A history file is a sequence of forms, one operation map each, usually one a line;
//! some tools wrap them all in one vector, which [`forms`] unwraps.

use serde_json::{Map, Value};

/// Every top-level form of `text`, each with the 1-based line it starts on.
pub fn forms(text: &str) -> Result<Vec<(usize, Value)>, (usize, String)> {
    let mut reader = Reader { chars: text.chars().collect(), at: 0, line: 1, blame: None };
    let mut out = Vec::new();
    loop {
        reader.skip_blank();
        if reader.at >= reader.chars.len() {
            break;
        }
        let line = reader.line;
        let value = reader.value().map_err(|problem| (reader.blame.unwrap_or(reader.line), problem))?;
        out.push((line, value));
    }
    // `[{…} {…} …]`: one vector holding every operation.
    if let [(_, Value::Array(items))] = out.as_slice() {
        if items.iter().all(Value::is_object) {
            let items = items.clone();
            return Ok(items.into_iter().map(|v| (1, v)).collect());
        }
    }
    Ok(out)
}

struct Reader {
    chars: Vec<char>,
    at: usize,
    line: usize,
    /// The line an error is about when it is not where reading stopped: an unclosed
    /// bracket is reported where it opened.
    blame: Option<usize>,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == ';' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if c.is_whitespace() || c == ',' {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_blank();
        match self.peek() {
            None => Err("the text ends inside a form: a bracket is not closed".into()),
            Some('[') | Some('(') => {
                let close = if self.bump() == Some('[') { ']' } else { ')' };
                self.sequence(close).map(Value::Array)
            }
            Some('{') => {
                self.bump();
                let items = self.sequence('}')?;
                if items.len() % 2 != 0 {
                    return Err("a map has a key without a value".into());
                }
                let mut map = Map::new();
                for pair in items.chunks(2) {
                    let key = match &pair[0] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    map.insert(key, pair[1].clone());
                }
                Ok(Value::Object(map))
            }
            Some('#') => {
                self.bump();
                if self.peek() == Some('{') {
                    self.bump();
                    return self.sequence('}').map(Value::Array);
                }
                // A tag such as `#inst` or `#jepsen.history.Op`: keep what it tags.
                self.atom_text();
                self.value()
            }
            Some('"') => self.string().map(Value::String),
            Some(c) if ")]}".contains(c) => Err(format!("unexpected '{c}': it closes nothing")),
            Some(_) => Ok(atom(&self.atom_text())),
        }
    }

    fn sequence(&mut self, close: char) -> Result<Vec<Value>, String> {
        let opened = self.line;
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                None => {
                    self.blame.get_or_insert(opened);
                    return Err(format!("this form is never closed: the file ends before its '{close}'"));
                }
                Some(_) => items.push(self.value()?),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err("a string is not closed (missing '\"')".into()),
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(c) => s.push(c),
                    None => return Err("a string ends with a lone '\\'".into()),
                },
                Some(c) => s.push(c),
            }
        }
    }

    fn atom_text(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' || "()[]{}\";".contains(c) {
                break;
            }
            s.push(c);
            self.bump();
        }
        s
    }
}

/// A number, `nil`, a boolean, a keyword (without its colon) or a symbol.
fn atom(text: &str) -> Value {
    match text {
        "nil" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => {
            let digits = text.trim_end_matches(['N', 'M']);
            if let Ok(n) = digits.parse::<i64>() {
                Value::from(n)
            } else if let Some(x) = digits.parse::<f64>().ok().filter(|x| x.is_finite()) {
                Value::from(x)
            } else {
                Value::String(text.strip_prefix(':').unwrap_or(text).to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_operation_map() {
        let text = "{:process 1, :type :invoke, :f :cas, :key \"3\", :value [1 4], :time 120}\n";
        let got = forms(text).map_err(|e| e.1);
        let want = json!({"process": 1, "type": "invoke", "f": "cas", "key": "3", "value": [1, 4], "time": 120});
        assert_eq!(got, Ok(vec![(1, want)]));
    }

    #[test]
    fn reads_sets_tags_comments_and_one_wrapping_vector() {
        let text = "; a history\n[{:type :ok, :value #{1 2}} {:type :info, :time #inst \"2020\"}]";
        let got = forms(text).map_err(|e| e.1);
        assert_eq!(
            got,
            Ok(vec![(1, json!({"type": "ok", "value": [1, 2]})), (1, json!({"type": "info", "time": "2020"}))])
        );
    }

    #[test]
    fn an_unclosed_form_names_its_line() {
        let err = forms("{:type :ok}\n{:type :invoke, :value [1 2}\n").expect_err("unbalanced");
        assert_eq!(err, (2, "unexpected '}': it closes nothing".to_string()));
        let err = forms("{:type :ok}\n{:type :invoke, :value [1 2]\n").expect_err("unclosed");
        assert_eq!(err, (2, "this form is never closed: the file ends before its '}'".to_string()));
    }
}

//! Line numbers for JSON paths: a small scanner over JSON text that records, for every
//! value, the path that names it and the line it starts on. It runs only on text that
//! already parsed, so it does not report errors; on anything unexpected it stops and
//! keeps what it found.

use std::collections::HashMap;

/// Appends an object key to a path: `.key` for plain keys, `["k y"]` otherwise.
pub(crate) fn push_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

pub(crate) fn push_index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
    out: HashMap<String, usize>,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                _ => break,
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        let start = self.i;
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let raw = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                    return serde_json::from_str::<String>(raw).ok();
                }
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        None
    }

    fn value(&mut self, path: String, depth: usize) -> Option<()> {
        if depth > 256 {
            return None;
        }
        self.ws();
        self.out.insert(path.clone(), self.line);
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    self.value(push_key(&path, &key), depth + 1)?;
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(());
                }
                let mut n = 0;
                loop {
                    self.value(push_index(&path, n), depth + 1)?;
                    n += 1;
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(|_| ()),
            _ => {
                while let Some(&c) = self.b.get(self.i) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

/// Maps every JSON path in `text` to the (1-based) line its value starts on.
pub(crate) fn lines_of(text: &str) -> HashMap<String, usize> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
        line: 1,
        out: HashMap::new(),
    };
    let _ = s.value("$".to_owned(), 0);
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_of_nested_values() {
        let text = "{\n  \"a\": [\n    {\"b\": 1},\n    {\"b\": \"x\\\"y\",\n     \"odd key\": true}\n  ],\n  \"c\": null\n}";
        let m = lines_of(text);
        assert_eq!(m["$"], 1);
        assert_eq!(m["$.a"], 2);
        assert_eq!(m["$.a[0].b"], 3);
        assert_eq!(m["$.a[1].b"], 4);
        assert_eq!(m["$.a[1][\"odd key\"]"], 5);
        assert_eq!(m["$.c"], 7);
    }
}

//! `env_file` contents, read as docker's `kvfile`: one `KEY=value` a line, used as written (no
//! quotes or interpolation), leading whitespace dropped, `#` lines and blank lines skipped, a
//! bare `KEY` taken from the caller's environment or dropped when it has none.

use std::collections::BTreeMap;

/// Reads an env file's bytes into `KEY=value` strings in file order, or says which line is bad.
pub(crate) fn parse_env_file(
    bytes: &[u8],
    env: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if index == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let line = std::str::from_utf8(raw)
            .map_err(|_| format!("invalid utf8 bytes at line {line_number}"))?;
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        if key.is_empty() {
            return Err(format!("no variable name on line '{line}'"));
        }
        if key.contains([' ', '\t']) {
            return Err(format!("variable '{key}' contains whitespaces"));
        }
        match value {
            Some(v) => out.push((key.to_owned(), v.to_owned())),
            None => {
                if let Some(v) = env.get(key) {
                    out.push((key.to_owned(), v.clone()));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_kvfile() {
        let env: BTreeMap<String, String> = [("FROM_ENV".to_owned(), "e".to_owned())].into();
        let text = "\u{feff}# comment\n  A=1\r\nB= spaced \nFROM_ENV\nUNSET\n\nC=x=y\n";
        let got = parse_env_file(text.as_bytes(), &env).unwrap_or_default();
        let want: Vec<(String, String)> = [
            ("A", "1"),
            ("B", " spaced "),
            ("FROM_ENV", "e"),
            ("C", "x=y"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            parse_env_file(b"=x", &env),
            Err("no variable name on line '=x'".to_owned())
        );
        assert_eq!(
            parse_env_file(b"A B=x", &env),
            Err("variable 'A B' contains whitespaces".to_owned())
        );
        assert!(parse_env_file(b"A=\xff", &env).is_err());
    }
}

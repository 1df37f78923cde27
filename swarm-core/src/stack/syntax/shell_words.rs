//! Splitting a command string into words as docker does (google/shlex): whitespace separates
//! words, `'…'` is literal, `"…"` and a bare `\` escape the next character, and a `#` starting a
//! word comments out the rest of the line.

/// Why a command string could not be split.
pub(crate) const UNCLOSED_QUOTE: &str = "EOF found when expecting closing quote";
/// Why a command string ending in a lone backslash could not be split.
pub(crate) const DANGLING_ESCAPE: &str = "EOF found after escape character";

#[derive(Clone, Copy, PartialEq)]
enum State {
    /// Between words.
    Start,
    /// Inside an unquoted word.
    Word,
    /// After `\` outside quotes.
    Escaping,
    /// Inside `"…"`.
    DoubleQuoted,
    /// After `\` inside `"…"`.
    EscapingQuoted,
    /// Inside `'…'`.
    SingleQuoted,
    /// After a `#` that started a word, until the end of the line.
    Comment,
}

/// Splits `text` into words, or says why it cannot (an unclosed quote or a trailing `\`).
pub(crate) fn split_shell_words(text: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Start;
    for c in text.chars() {
        state = match state {
            State::Start => match c {
                c if c.is_whitespace() => State::Start,
                '#' => State::Comment,
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escaping,
                c => {
                    word.push(c);
                    State::Word
                }
            },
            State::Word => match c {
                c if c.is_whitespace() => {
                    words.push(std::mem::take(&mut word));
                    State::Start
                }
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escaping,
                c => {
                    word.push(c);
                    State::Word
                }
            },
            State::Escaping => {
                word.push(c);
                State::Word
            }
            State::DoubleQuoted => match c {
                '"' => State::Word,
                '\\' => State::EscapingQuoted,
                c => {
                    word.push(c);
                    State::DoubleQuoted
                }
            },
            State::EscapingQuoted => {
                word.push(c);
                State::DoubleQuoted
            }
            State::SingleQuoted => match c {
                '\'' => State::Word,
                c => {
                    word.push(c);
                    State::SingleQuoted
                }
            },
            State::Comment => match c {
                '\n' => State::Start,
                _ => State::Comment,
            },
        };
    }
    match state {
        State::Start | State::Comment => Ok(words),
        State::Word => {
            words.push(word);
            Ok(words)
        }
        State::Escaping | State::EscapingQuoted => Err(DANGLING_ESCAPE),
        State::DoubleQuoted | State::SingleQuoted => Err(UNCLOSED_QUOTE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_shlex() {
        let words = |s| split_shell_words(s).unwrap_or_default();
        assert_eq!(
            words("bundle exec thin -p 3000"),
            ["bundle", "exec", "thin", "-p", "3000"]
        );
        assert_eq!(
            words(r#"sh -c "echo \"hi\" $HOME""#),
            ["sh", "-c", r#"echo "hi" $HOME"#]
        );
        assert_eq!(words("echo 'a  b' c\\ d"), ["echo", "a  b", "c d"]);
        assert_eq!(words(r#"a "" b"#), ["a", "", "b"]);
        assert_eq!(words("a # comment\nb"), ["a", "b"]);
        assert_eq!(words("a#b"), ["a#b"]);
        assert_eq!(words("  "), Vec::<String>::new());
        assert_eq!(split_shell_words("echo 'oops"), Err(UNCLOSED_QUOTE));
        assert_eq!(split_shell_words("echo \\"), Err(DANGLING_ESCAPE));
    }
}

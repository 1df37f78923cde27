//! The parser of the placeholder subset: field paths and `index`, nothing else.
//!
//! Follows Go's `text/template` lexing for what it accepts: `{{- ` trims the whitespace
//! before a placeholder and ` -}}` the whitespace after, arguments are separated by spaces,
//! tabs, CR or LF, strings are double-quoted (escapes `\\ \" \n \t \r`) or backquoted, and a
//! `}}` inside a string does not close the placeholder.

use super::ast::{Arg, Command, FieldPath, Piece, Placeholder};
use super::error::TemplateError;
use super::fault::Fault;
use super::limits::MAX_PLACEHOLDERS_PER_TEXT;
use std::borrow::Cow;

const OPEN: &str = "{{";
const CLOSE: &str = "}}";
const TRIMMED_CLOSE: &str = "-}}";
const ONLY_FIELDS: &str = "only fields and `index` are supported";

/// Go's whitespace between arguments and for trimming: space, tab, CR, LF.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A character of a field or function name.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `text` into text pieces and placeholders; errors name `field`.
pub(super) fn parse<'a>(text: &'a str, field: &str) -> Result<Vec<Piece<'a>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    let mut placeholders = 0usize;
    while let Some(found) = text[pos..].find(OPEN) {
        let open = pos + found;
        let body = open + OPEN.len();
        // `{{-` trims only when a space follows: `{{-3}}` would be a number.
        let trim_left = text[body..].starts_with('-') && text[body + 1..].starts_with(is_space);
        let mut before = &text[pos..open];
        if trim_next {
            before = before.trim_start_matches(is_space);
        }
        if trim_left {
            before = before.trim_end_matches(is_space);
        }
        if !before.is_empty() {
            pieces.push(Piece::Text(before));
        }
        placeholders += 1;
        if placeholders > MAX_PLACEHOLDERS_PER_TEXT {
            return Err(TemplateError::TooManyPlaceholders {
                field: field.to_owned(),
                max: MAX_PLACEHOLDERS_PER_TEXT,
            });
        }
        let mut lexer = Lexer {
            text,
            pos: if trim_left { body + 1 } else { body },
            trim_right: false,
        };
        let command = parse_command(&mut lexer).map_err(|fault| {
            // Whatever stopped the lexer, a `{{` with no `}}` after it is unclosed.
            let fault = if text[body..].contains(CLOSE) {
                fault
            } else {
                Fault::Unclosed
            };
            fault.into_error(field, snippet(text, open))
        })?;
        pieces.push(Piece::Placeholder(Placeholder {
            source: &text[open..lexer.pos],
            command,
        }));
        pos = lexer.pos;
        trim_next = lexer.trim_right;
    }
    let mut rest = &text[pos..];
    if trim_next {
        rest = rest.trim_start_matches(is_space);
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// The placeholder at `open` as written, for an error: up to the first `}}`, or the rest of
/// the text when there is none.
fn snippet(text: &str, open: usize) -> &str {
    let body = open + OPEN.len();
    match text[body..].find(CLOSE) {
        Some(end) => &text[open..body + end + CLOSE.len()],
        None => &text[open..],
    }
}

/// `index` and its arguments, or a lone field.
fn parse_command<'a>(lexer: &mut Lexer<'a>) -> Result<Command<'a>, Fault> {
    match lexer.next_token()? {
        Token::Close => Err(Fault::Unsupported("the placeholder is empty")),
        Token::Field(path) => match lexer.next_token()? {
            Token::Close => Ok(Command::Field(path)),
            _ => Err(Fault::Unsupported("a field takes no arguments")),
        },
        Token::Name("index") => {
            let collection = match lexer.next_token()? {
                Token::Field(path) => path,
                Token::Close => {
                    return Err(Fault::BadIndex(
                        "index needs a map and a key, as in `index .Service.Labels \"key\"`",
                    ));
                }
                Token::Str(_) => {
                    return Err(Fault::BadIndex(
                        "the first argument of index must be a field",
                    ));
                }
                Token::Name(_) => return Err(Fault::Unsupported(ONLY_FIELDS)),
            };
            let key = match lexer.next_token()? {
                // Without a key `index` gives the map itself, as Go's.
                Token::Close => {
                    return Ok(Command::Index {
                        collection,
                        key: None,
                    });
                }
                Token::Str(key) => Arg::Literal(key),
                Token::Field(path) => Arg::Field(path),
                Token::Name(_) => return Err(Fault::Unsupported(ONLY_FIELDS)),
            };
            match lexer.next_token()? {
                Token::Close => Ok(Command::Index {
                    collection,
                    key: Some(key),
                }),
                Token::Str(_) | Token::Field(_) => Err(Fault::BadIndex(
                    "index takes one key: a label's value is a string and cannot be indexed",
                )),
                Token::Name(_) => Err(Fault::Unsupported(ONLY_FIELDS)),
            }
        }
        Token::Name(_) => Err(Fault::Unsupported(ONLY_FIELDS)),
        Token::Str(_) => Err(Fault::Unsupported(
            "a placeholder prints a field, not a quoted string",
        )),
    }
}

/// One token inside a placeholder.
enum Token<'a> {
    /// `}}` or ` -}}`.
    Close,
    /// `.Service.Name`.
    Field(FieldPath<'a>),
    /// A function or keyword name; only `index` is accepted.
    Name(&'a str),
    /// A quoted string, escapes resolved.
    Str(Cow<'a, str>),
}

/// Reads the tokens of one placeholder from `pos` on.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    /// Set when the placeholder closed with ` -}}`.
    trim_right: bool,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn next_token(&mut self) -> Result<Token<'a>, Fault> {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches(is_space);
        let spaced = trimmed.len() < rest.len();
        self.pos += rest.len() - trimmed.len();
        if trimmed.starts_with(CLOSE) {
            self.pos += CLOSE.len();
            return Ok(Token::Close);
        }
        if spaced && trimmed.starts_with(TRIMMED_CLOSE) {
            self.pos += TRIMMED_CLOSE.len();
            self.trim_right = true;
            return Ok(Token::Close);
        }
        match trimmed.chars().next() {
            None => Err(Fault::Unclosed),
            Some('.') => self.field_path(),
            Some('"') => self.quoted(),
            Some('`') => self.raw(),
            Some(c) if c.is_alphabetic() || c == '_' => Ok(Token::Name(self.take_name())),
            Some(_) => Err(Fault::Unsupported(ONLY_FIELDS)),
        }
    }

    /// The name at `pos` (possibly empty), consumed.
    fn take_name(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !is_name_char(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// Whether a field path may end here: at a space, `}}` or the end of the text.
    fn at_path_end(&self) -> bool {
        let rest = self.rest();
        rest.is_empty() || rest.starts_with(is_space) || rest.starts_with(CLOSE)
    }

    /// A field path; `pos` is at its first `.`.
    fn field_path(&mut self) -> Result<Token<'a>, Fault> {
        let mut segments = Vec::new();
        while self.rest().starts_with('.') {
            self.pos += 1;
            let name = self.take_name();
            if name.is_empty() {
                if segments.is_empty() && self.at_path_end() {
                    break; // the bare `.`
                }
                return Err(Fault::Unsupported("a field name is missing after `.`"));
            }
            if name.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(Fault::Unsupported("a field name cannot start with a digit"));
            }
            segments.push(name);
        }
        if !self.at_path_end() {
            return Err(Fault::Unsupported(
                "a field path must be followed by a space or `}}`",
            ));
        }
        Ok(Token::Field(FieldPath(segments)))
    }

    /// A double-quoted string; `pos` is at its opening quote.
    fn quoted(&mut self) -> Result<Token<'a>, Fault> {
        let text = self.text;
        let start = self.pos + 1;
        // Borrowed until the first escape.
        let mut owned: Option<String> = None;
        let mut chars = text[start..].char_indices();
        loop {
            match chars.next() {
                None => return Err(Fault::Unclosed),
                Some((i, '"')) => {
                    self.pos = start + i + 1;
                    return Ok(Token::Str(match owned {
                        Some(s) => Cow::Owned(s),
                        None => Cow::Borrowed(&text[start..start + i]),
                    }));
                }
                Some((_, '\n')) => {
                    return Err(Fault::Unsupported("a quoted string cannot span lines"));
                }
                Some((i, '\\')) => {
                    let resolved = match chars.next() {
                        None => return Err(Fault::Unclosed),
                        Some((_, '\\')) => '\\',
                        Some((_, '"')) => '"',
                        Some((_, 'n')) => '\n',
                        Some((_, 't')) => '\t',
                        Some((_, 'r')) => '\r',
                        Some(_) => {
                            return Err(Fault::Unsupported(
                                "only the escapes \\\\ \\\" \\n \\t \\r are supported",
                            ));
                        }
                    };
                    owned
                        .get_or_insert_with(|| text[start..start + i].to_owned())
                        .push(resolved);
                }
                Some((_, c)) => {
                    if let Some(s) = owned.as_mut() {
                        s.push(c);
                    }
                }
            }
        }
    }

    /// A backquoted (raw) string; `pos` is at its opening backquote.
    fn raw(&mut self) -> Result<Token<'a>, Fault> {
        let start = self.pos + 1;
        let len = self.text[start..].find('`').ok_or(Fault::Unclosed)?;
        self.pos = start + len + 1;
        Ok(Token::Str(Cow::Borrowed(&self.text[start..start + len])))
    }
}

//! Byte offsets to 1-based line and column, as editors count them.

use crate::Span;

/// Line starts of one source text, so each lookup is a binary search.
pub(crate) struct Lines<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(source: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Lines { source, starts }
    }

    /// Columns count characters, not bytes, so a `é` earlier on the line
    /// doesn't push the caret off the token.
    pub fn span(&self, offset: usize) -> Span {
        let offset = offset.min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .source
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        Span {
            line: line as u32,
            column: column as u32 + 1,
        }
    }

    /// The byte offset in the source of byte `offset` within the decoded
    /// contents of the string literal at `literal_start`.
    ///
    /// Exact when the literal has no escapes (raw text equals the value), which
    /// is how conditions are written; otherwise a best effort.
    pub fn in_string(&self, literal_start: usize, value: &str, offset: usize) -> usize {
        let rest = self.source.get(literal_start..).unwrap_or("");
        let quote = if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
            3
        } else if rest.starts_with('"') || rest.starts_with('\'') {
            1
        } else {
            0
        };
        let mut body = literal_start + quote;
        // A newline right after an opening `"""` is not part of the value.
        if quote == 3 {
            let after = self.source.get(body..).unwrap_or("");
            if after.starts_with("\r\n") {
                body += 2;
            } else if after.starts_with('\n') {
                body += 1;
            }
        }
        let raw = self.source.get(body..body + value.len());
        if raw.is_some_and(|r| r == value) || raw.is_none() {
            return (body + offset).min(self.source.len());
        }
        // Escapes shift positions: walk raw and decoded text in step,
        // counting one raw character (or escape sequence) per decoded char.
        let prefix_chars = value.get(..offset).map_or(0, |p| p.chars().count());
        let raw_text = self.source.get(body..).unwrap_or("");
        let mut chars = raw_text.char_indices().peekable();
        let mut n = 0;
        while n < prefix_chars {
            match chars.next() {
                Some((_, '\\')) => {
                    let skip = match chars.next() {
                        Some((_, 'u')) => 4,
                        Some((_, 'U')) => 8,
                        _ => 0,
                    };
                    for _ in 0..skip {
                        chars.next();
                    }
                }
                Some(_) => {}
                None => break,
            }
            n += 1;
        }
        let at = chars.peek().map_or(raw_text.len(), |(i, _)| *i);
        body + at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(line: u32, column: u32) -> Span {
        Span { line, column }
    }

    #[test]
    fn lines_and_columns() {
        let l = Lines::new("ab\ncdé\nx");
        assert_eq!(l.span(0), sp(1, 1));
        assert_eq!(l.span(2), sp(1, 3));
        assert_eq!(l.span(3), sp(2, 1));
        assert_eq!(l.span(8), sp(3, 1));
        assert_eq!(l.span(99), sp(3, 2));
    }

    #[test]
    fn offsets_inside_strings() {
        let src = r#"a = "x = y""#;
        let l = Lines::new(src);
        assert_eq!(l.in_string(4, "x = y", 4), 9);
        let src = r#"a = "\t = y""#;
        let l = Lines::new(src);
        assert_eq!(l.in_string(4, "\t = y", 4), 10);
    }
}

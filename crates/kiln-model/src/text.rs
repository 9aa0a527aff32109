//! What a text option accepts. Every text option refuses characters no one
//! can see or that change how the rest is shown: control characters, line
//! breaks, and the invisible formatting characters (zero-width spaces and
//! joiners, bidirectional overrides and isolates, the byte-order mark).
//! A product may narrow it further with `characters = "A-Za-z0-9 .,'&-"`:
//! single characters and ranges `a-z`; a `-` first or last is itself.

use std::fmt;

/// The characters a text option allows (beyond the rule every text follows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Characters {
    /// As the model file wrote it, for messages and export.
    pub source: String,
    ranges: Vec<(char, char)>,
}

/// Why a text was refused: the 1-based position of the first character it
/// may not hold, and that character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCharacter {
    pub position: usize,
    pub character: char,
}

impl fmt::Display for BadCharacter {
    /// "character 3, U+202E (invisible)" or "character 3, “é”".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.character;
        if invisible(c) {
            write!(
                f,
                "character {}, U+{:04X} (invisible)",
                self.position, c as u32
            )
        } else {
            write!(f, "character {}, “{c}”", self.position)
        }
    }
}

impl Characters {
    /// Reads `A-Za-z0-9 .,'-`; the error says what is wrong with it.
    pub fn parse(source: &str) -> Result<Characters, String> {
        let chars: Vec<char> = source.chars().collect();
        if chars.is_empty() {
            return Err("`characters` is empty: no text could be entered".into());
        }
        let mut ranges = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if invisible(c) {
                return Err(format!(
                    "`characters` holds U+{:04X}, an invisible character no text may contain",
                    c as u32
                ));
            }
            if i + 2 < chars.len() && chars[i + 1] == '-' {
                let end = chars[i + 2];
                if end < c {
                    return Err(format!(
                        "`characters` has the range {c}-{end}, which runs backwards"
                    ));
                }
                ranges.push((c, end));
                i += 3;
            } else {
                ranges.push((c, c));
                i += 1;
            }
        }
        Ok(Characters {
            source: source.to_string(),
            ranges,
        })
    }

    pub fn allows(&self, c: char) -> bool {
        self.ranges.iter().any(|&(a, b)| (a..=b).contains(&c))
    }
}

/// Control characters, line breaks and invisible formatting characters.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// The first character of `text` that a text option with `characters` may
/// not hold.
pub fn check_text(text: &str, characters: Option<&Characters>) -> Result<(), BadCharacter> {
    for (k, c) in text.chars().enumerate() {
        if invisible(c) || characters.is_some_and(|a| !a.allows(c)) {
            return Err(BadCharacter {
                position: k + 1,
                character: c,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_literals_and_dashes() {
        let a = Characters::parse("A-Za-z0-9 .,'-").unwrap();
        for c in ['A', 'q', '7', ' ', '.', '\'', '-'] {
            assert!(a.allows(c), "{c}");
        }
        for c in ['é', '!', '_'] {
            assert!(!a.allows(c), "{c}");
        }
        let dash_first = Characters::parse("-a").unwrap();
        assert!(dash_first.allows('-') && dash_first.allows('a') && !dash_first.allows('b'));
        assert!(Characters::parse("z-a").is_err());
        assert!(Characters::parse("").is_err());
        assert!(Characters::parse("a\u{202E}").is_err());
    }

    #[test]
    fn invisible_characters_are_refused_everywhere() {
        assert_eq!(check_text("Ada Lovelace", None), Ok(()));
        assert_eq!(check_text("Zoë 🎉", None), Ok(()));
        let e = check_text("ab\u{202E}c", None).unwrap_err();
        assert_eq!((e.position, e.character), (3, '\u{202E}'));
        assert_eq!(e.to_string(), "character 3, U+202E (invisible)");
        assert!(check_text("a\nb", None).is_err());
        assert!(check_text("a\u{200B}b", None).is_err());
        let latin = Characters::parse("A-Za-z ").unwrap();
        let e = check_text("Zoë", Some(&latin)).unwrap_err();
        assert_eq!(e.to_string(), "character 3, “ë”");
    }
}

//! Code 128 barcodes as inline SVG, for the tracking number on a shipping
//! label.
//!
//! # How a Code 128 symbol is built
//!
//! Everything is measured in *modules*: the width of the narrowest bar or
//! space (the "X dimension"). Read from left to right, a symbol is
//!
//! 1. a **quiet zone** of at least 10 modules of white, so the scanner can tell
//!    where the code begins;
//! 2. a **start symbol** that also picks the first *code set* (below);
//! 3. one **symbol per character** (or per pair of digits in code set C);
//! 4. a **check symbol**: the start symbol's value plus each data symbol's
//!    value times its position (1, 2, 3, ...), modulo 103;
//! 5. the **stop symbol** and another quiet zone of 10 modules.
//!
//! Every symbol except the stop is 11 modules wide and made of three bars and
//! three spaces, each 1 to 4 modules wide; the stop is 13 modules (it ends with
//! a final 2-module bar). The symbol values 0..=102 mean different things in
//! the three code sets: **A** holds upper case letters, digits and control
//! characters, **B** holds all of printable ASCII, and **C** packs two digits
//! into one symbol, which makes long numbers (a GS1 SSCC, for one) about half
//! as wide. A symbol may switch sets in the middle.
//!
//! For example `"Hi"` is encoded in code set B as
//!
//! | symbol | value | pattern (1 = bar, 0 = space) |
//! |---|---|---|
//! | Start B | 104 | `11010010000` |
//! | `H` | 40 | `11000101000` |
//! | `i` | 73 | `10000110100` |
//! | check | (104 + 1·40 + 2·73) mod 103 = 84 | `10011110100` |
//! | Stop | 106 | `1100011101011` |
//!
//! Choosing the code sets well is the fiddly part, so we leave encoding to the
//! [`code128`] crate, which follows the rules of ISO/IEC 15417 (switching to
//! code set C for runs of digits) and is fuzzed against its own decoder. This
//! module only checks the input and draws the bars.
//!
//! # What the SVG looks like
//!
//! One module is 2 SVG units wide and the bars are 60 units high; the white
//! background includes the 10-module quiet zones, so a label may place the
//! SVG right next to other content. The human-readable number is *not* drawn:
//! the label prints it under the barcode in its own font. `shape-rendering=
//! "crispEdges"` keeps renderers from blurring the edges of the bars, which
//! scanners dislike more than bars that are a fraction of a pixel off.

use std::fmt::Write as _;

use code128::Code128;

/// The longest text [`code128_svg`] accepts, in characters.
///
/// Tracking numbers are at most about 35 characters; beyond 48 a Code 128 on
/// a 10 cm label gets too narrow for handheld scanners.
pub const MAX_LEN: usize = 48;

/// SVG units per module (the width of the narrowest bar).
const MODULE: u32 = 2;

/// Height of the bars in SVG units.
const HEIGHT: u32 = 60;

/// Why a text cannot be drawn as a barcode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    /// The text is empty: a barcode of nothing would scan as nothing.
    #[error("the barcode text is empty")]
    Empty,
    /// The text has more than [`MAX_LEN`] characters.
    #[error("the barcode text has {0} characters; at most {MAX_LEN} fit on a label")]
    TooLong(usize),
    /// A character other than printable ASCII (space to `~`). Code 128 can
    /// carry control characters and Latin-1, but scanners disagree on how to
    /// report them, so a label sticks to what every scanner types the same.
    #[error(
        "the barcode text has {ch:?} at index {index}; only printable ASCII (space to `~`) is allowed"
    )]
    InvalidChar {
        /// The offending character.
        ch: char,
        /// Its position, counted in characters from 0.
        index: usize,
    },
}

/// Draws `text` as a Code 128 barcode: a standalone SVG document of black
/// bars on a white background, quiet zones included, without the text.
///
/// The SVG is `role="img"` with `aria-label="barcode {text}"` (XML-escaped),
/// so screen readers announce what the bars say.
///
/// ```
/// use kiln_server::barcode::{code128_svg, BarcodeError};
///
/// let svg = code128_svg("KLN123456789DE").unwrap();
/// assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
/// assert!(svg.contains(r#"aria-label="barcode KLN123456789DE""#));
///
/// assert_eq!(code128_svg(""), Err(BarcodeError::Empty));
/// ```
///
/// # Errors
///
/// [`BarcodeError`] when the text is empty, longer than [`MAX_LEN`]
/// characters, or has a character outside printable ASCII.
pub fn code128_svg(text: &str) -> Result<String, BarcodeError> {
    check(text)?;
    // Printable ASCII is one byte per character, the same in Latin-1, which
    // is what Code 128 carries.
    let code = Code128::encode(text.as_bytes());
    // `len()` counts modules, both 10-module quiet zones included; the bar
    // coordinates already start after the left quiet zone.
    let width = code.len() as u32 * MODULE;

    let mut svg = String::with_capacity(200 + 40 * text.len() * 3);
    // Writing to a String cannot fail.
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="barcode {label}" shape-rendering="crispEdges"><rect width="{width}" height="{HEIGHT}" fill="#fff"/><g fill="#000">"##,
        label = xml_escape(text),
    );
    for bar in code.bar_coordinates() {
        let _ = write!(
            svg,
            r#"<rect x="{}" width="{}" height="{HEIGHT}"/>"#,
            bar.x * MODULE,
            u32::from(bar.width) * MODULE,
        );
    }
    svg.push_str("</g></svg>");
    Ok(svg)
}

/// Accepts 1 to [`MAX_LEN`] characters of printable ASCII.
fn check(text: &str) -> Result<(), BarcodeError> {
    if text.is_empty() {
        return Err(BarcodeError::Empty);
    }
    let len = text.chars().count();
    if len > MAX_LEN {
        return Err(BarcodeError::TooLong(len));
    }
    match text
        .chars()
        .enumerate()
        .find(|(_, c)| !(' '..='~').contains(c))
    {
        Some((index, ch)) => Err(BarcodeError::InvalidChar { ch, index }),
        None => Ok(()),
    }
}

/// Escapes the five characters that XML gives a meaning, for use in an
/// attribute value.
pub(crate) use kiln_configure::xml_escape;

#[cfg(test)]
mod tests {
    use super::*;

    /// The `(x, width)` of every `<rect>` with an `x`, i.e. every bar, in SVG
    /// units.
    fn bars(svg: &str) -> Vec<(u32, u32)> {
        let attr = |rect: &str, name: &str| -> Option<u32> {
            let start = rect.find(&format!(" {name}=\""))? + name.len() + 3;
            let len = rect[start..].find('"')?;
            rect[start..start + len].parse().ok()
        };
        svg.split("<rect")
            .skip(1)
            .filter_map(|rect| Some((attr(rect, "x")?, attr(rect, "width")?)))
            .collect()
    }

    /// The viewBox width of the SVG, in SVG units.
    fn view_width(svg: &str) -> u32 {
        let start = svg.find("viewBox=\"0 0 ").unwrap() + "viewBox=\"0 0 ".len();
        svg[start..].split(' ').next().unwrap().parse().unwrap()
    }

    /// The symbol as the spec writes it: `1` for a bar module, `0` for a space
    /// module, from the start symbol to the end of the stop symbol (without
    /// the quiet zones).
    fn modules(svg: &str) -> String {
        let total = (view_width(svg) / MODULE) as usize;
        let mut m = vec![b'0'; total];
        for (x, w) in bars(svg) {
            assert_eq!((x % MODULE, w % MODULE), (0, 0), "bars sit on module edges");
            for i in x / MODULE..(x + w) / MODULE {
                m[i as usize] = b'1';
            }
        }
        String::from_utf8(m[10..total - 10].to_vec()).unwrap()
    }

    /// Reads the bars back with `code128`'s decoder, as a scanner would.
    fn decode(svg: &str) -> String {
        let bars = bars(svg);
        let mut out = Vec::new();
        for (i, &(x, w)) in bars.iter().enumerate() {
            // The last bar is followed by the quiet zone, not a space.
            let next = bars.get(i + 1).map_or(x + w, |b| b.0);
            out.push(code128::Bar {
                width: (w / MODULE) as u8,
                space: ((next - x - w) / MODULE) as u8,
            });
        }
        code128::decode_str(&out).unwrap()
    }

    #[test]
    fn hi_is_start_b_h_i_check_84_stop() {
        // The patterns and values of ISO/IEC 15417's table; the check symbol
        // is (104 + 1*40 + 2*73) mod 103 = 84.
        let expected = [
            "11010010000",   // Start B, 104
            "11000101000",   // H, 40
            "10000110100",   // i, 73
            "10011110100",   // check, 84
            "1100011101011", // Stop
        ]
        .concat();
        assert_eq!(modules(&code128_svg("Hi").unwrap()), expected);
    }

    #[test]
    fn digits_pair_up_in_code_set_c() {
        // (105 + 1*12 + 2*34) mod 103 = 82.
        let expected = [
            "11010011100",   // Start C, 105
            "10110011100",   // 12
            "10001011000",   // 34
            "10010011110",   // check, 82
            "1100011101011", // Stop
        ]
        .concat();
        assert_eq!(modules(&code128_svg("1234").unwrap()), expected);
    }

    #[test]
    fn has_quiet_zones_module_width_and_height() {
        let svg = code128_svg("KLN123456789DE").unwrap();
        let width = view_width(&svg);
        let bars = bars(&svg);
        assert_eq!(bars.first().unwrap().0, 10 * MODULE);
        let (x, w) = *bars.last().unwrap();
        assert_eq!(x + w, width - 10 * MODULE);
        // Every symbol but the stop is 11 modules; the stop is 13.
        assert_eq!((width / MODULE - 20 - 13) % 11, 0);
        assert!(svg.contains(r#"viewBox="0 0 "#));
        assert!(svg.contains(r#" 60" role="img""#));
        assert!(svg.contains(&format!(
            r##"<rect width="{width}" height="60" fill="#fff"/>"##
        )));
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" "#));
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<text"));
    }

    #[test]
    fn reads_back_as_the_text() {
        for text in [
            "KLN123456789DE",
            "00340434161234567890",
            "1Z999AA10123456784",
            "a",
            " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
            &"9".repeat(MAX_LEN),
        ] {
            assert_eq!(decode(&code128_svg(text).unwrap()), text);
        }
    }

    #[test]
    fn long_digit_runs_are_narrower_than_letters() {
        let digits = view_width(&code128_svg("00340434161234567890").unwrap());
        let letters = view_width(&code128_svg("ABCDEFGHIJKLMNOPQRST").unwrap());
        assert!(digits < letters, "{digits} >= {letters}");
    }

    #[test]
    fn rejects_empty_too_long_and_non_printable() {
        assert_eq!(code128_svg(""), Err(BarcodeError::Empty));
        assert!(code128_svg(&"A".repeat(MAX_LEN)).is_ok());
        assert_eq!(
            code128_svg(&"A".repeat(MAX_LEN + 1)),
            Err(BarcodeError::TooLong(MAX_LEN + 1))
        );
        // Counted in characters, not bytes.
        assert_eq!(
            code128_svg(&"é".repeat(MAX_LEN + 1)),
            Err(BarcodeError::TooLong(MAX_LEN + 1))
        );
        for (text, ch, index) in [
            ("KLNé1", 'é', 3),
            ("KLN\n1", '\n', 3),
            ("\t", '\t', 0),
            ("KLN\u{7f}", '\u{7f}', 3),
            ("Ünicode", 'Ü', 0),
        ] {
            assert_eq!(
                code128_svg(text),
                Err(BarcodeError::InvalidChar { ch, index }),
                "{text:?}"
            );
        }
        assert_eq!(
            BarcodeError::InvalidChar { ch: 'é', index: 3 }.to_string(),
            "the barcode text has 'é' at index 3; only printable ASCII (space to `~`) is allowed"
        );
    }

    #[test]
    fn escapes_the_label_and_has_no_script() {
        let svg = code128_svg(r#"<script>alert("x&y's")</script>"#).unwrap();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("</script"), "{svg}");
        assert!(
            svg.contains(
                r#"aria-label="barcode &lt;script&gt;alert(&quot;x&amp;y&apos;s&quot;)&lt;/script&gt;""#
            ),
            "{svg}"
        );
        // The only markup is the svg, its background, one group and the bars.
        let tags: Vec<&str> = svg
            .split('<')
            .skip(1)
            .map(|t| t.split([' ', '>', '/']).next().unwrap())
            .filter(|t| !t.is_empty())
            .collect();
        assert!(
            tags.iter().all(|t| ["svg", "rect", "g"].contains(t)),
            "{tags:?}"
        );
        assert_eq!(xml_escape(r#"&<>"'"#), "&amp;&lt;&gt;&quot;&apos;");
    }

    /// Writes sample SVGs to `$TMPDIR/kiln-barcode/` to check with a real
    /// decoder (e.g. zbar after rasterizing): run with `--ignored`.
    #[test]
    #[ignore = "writes files for a manual scanner check"]
    fn write_samples_for_a_scanner() {
        let dir = std::env::temp_dir().join("kiln-barcode");
        std::fs::create_dir_all(&dir).unwrap();
        for text in ["KLN123456789DE", "00340434161234567890"] {
            let path = dir.join(format!("{text}.svg"));
            std::fs::write(&path, code128_svg(text).unwrap()).unwrap();
            println!("{}", path.display());
        }
    }
}

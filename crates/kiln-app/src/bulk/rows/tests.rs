//! The reading of a CSV: row numbers, malformed rows, limits, headers.

use super::*;

fn rows_of(csv: &str) -> Vec<u64> {
    let mut lines = LineCounter::new(csv.as_bytes());
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    reader
        .records()
        .map(|r| lines.at(r.unwrap().position().unwrap().byte()))
        .collect()
}

fn errors_of(csv: &str) -> Vec<(u64, Option<String>, String)> {
    read(&[], csv.as_bytes())
        .errors
        .into_iter()
        .map(|e| (e.row, e.column, e.message))
        .collect()
}

#[test]
fn a_quote_never_closed_is_reported_not_swallowed() {
    let e = errors_of("product,monogram,quantity\nmug,,1\nshirt,\"AB,1\nmug,,2\nmug,,3\n");
    let (row, column, message) = e.iter().find(|e| e.0 == 3).expect("row 3 reported");
    assert_eq!(*row, 3);
    assert_eq!(column.as_deref(), Some("monogram"));
    assert!(message.contains("from line 3 to line 5"), "{message}");
    assert!(message.contains("not closed"), "{message}");
}

#[test]
fn a_row_the_header_does_not_fit_is_reported() {
    let e = errors_of("product,quantity\nmug,1,5\nmug\nmug,2,,\n");
    assert!(
        e.iter()
            .any(|e| e.0 == 2 && e.2.contains("3 cells and the header 2")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|e| e.0 == 3 && e.2.contains("1 cells and the header 2")),
        "{e:?}"
    );
    // Blank cells past the header's last column are a spreadsheet's.
    assert!(
        !e.iter().any(|e| e.0 == 4 && e.2.contains("cells")),
        "{e:?}"
    );
}

#[test]
fn a_file_over_the_limit_is_refused_whole() {
    let mut csv = String::from("product,quantity\n");
    for _ in 0..=MAX_ROWS {
        csv.push_str("mug,1\n");
    }
    let read = read(&[], csv.as_bytes());
    assert!(read.good.is_empty());
    assert_eq!(read.errors.len(), 1, "{:?}", &read.errors[..3]);
    assert!(read.errors[0].message.contains("more than 100000 rows"));
}

#[test]
fn a_header_alone_says_so_and_long_values_are_not_echoed_whole() {
    let e = errors_of("product,quantity\n\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].2.contains("no rows under its header"), "{e:?}");
    let long = "x".repeat(10_000);
    let e = errors_of(&format!("product,quantity\n{long},1\n"));
    assert!(
        e[0].2.chars().count() <= MESSAGE_CHARS + 1,
        "{}",
        e[0].2.len()
    );
}

#[test]
fn header_names_are_read_whatever_their_case() {
    let options = BTreeSet::from(["size", "Colour", "colour", "name"]);
    let c = |cell: &str| canonical(cell.to_string(), &options);
    assert_eq!(c("Product"), "product");
    assert_eq!(c("QUANTITY"), "quantity");
    assert_eq!(c("Recipient_Country"), "recipient_country");
    assert_eq!(c("Size"), "size");
    // Spelled exactly, or ambiguous: as written.
    assert_eq!(c("Colour"), "Colour");
    assert_eq!(c("COLOUR"), "COLOUR");
    assert_eq!(c("Sleeve"), "Sleeve");
    // A header in capitals finds its columns, and errors name them as
    // the file writes them.
    let e = errors_of("Product,Quantity\n\n");
    assert!(e[0].2.contains("no rows under its header"), "{e:?}");
    let e = errors_of("Product,Quantity\nmug,0\n");
    assert!(
        e.iter().any(|e| e.1.as_deref() == Some("Quantity")),
        "{e:?}"
    );
}

#[test]
fn rows_are_their_lines_in_the_file_whatever_ends_them() {
    assert_eq!(rows_of("a,b\n1,2\n3,4\n"), vec![2, 3]);
    assert_eq!(rows_of("a,b\r\n1,2\r\n3,4\r\n"), vec![2, 3]);
    assert_eq!(rows_of("a,b\r1,2\r3,4"), vec![2, 3]);
    // A quoted cell over two lines: the next row starts a line later.
    assert_eq!(rows_of("a,b\n\"x\ny\",2\n3,4\n"), vec![2, 4]);
    assert_eq!(rows_of("a,b\r\n\"x\r\ny\",2\r\n3,4\r\n"), vec![2, 4]);
    // Blank lines before a row: it is on the line after them.
    assert_eq!(rows_of("a,b\n1,2\n\n3,4\n"), vec![2, 4]);
    assert_eq!(rows_of("a,b\n\n\n1,2\n"), vec![4]);
    assert_eq!(rows_of("a,b\r\n\r\n1,2\r\n\r\n3,4"), vec![3, 5]);
    assert_eq!(rows_of("a,b\r\r1,2"), vec![3]);
}

//! The parser meets half-typed files in an editor: it must never panic.

use kiln_model::{check, parse_factory, parse_product};
use proptest::prelude::*;

const MUG: &str = include_str!("../../../catalog/demo/mug.toml");
const SHIRT: &str = include_str!("../../../catalog/demo/shirt.toml");
const FACTORY: &str = include_str!("../../../catalog/demo/factory.toml");

fn run_all(src: &str) {
    let _ = parse_product("p.toml", src);
    let _ = parse_factory("f.toml", src);
    let _ = check(&[("x.toml".to_owned(), src.to_owned())]);
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

/// Bytes that matter to TOML and to conditions, plus anything at all.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(b"\"'=[]{}(),.#<>!\n \\-_0123456789aSLzn".to_vec()),
        any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn mutate(src: &str, edits: &[Edit]) -> String {
    let mut b = src.as_bytes().to_vec();
    for e in edits {
        if b.is_empty() {
            break;
        }
        match *e {
            Edit::Delete(i) => {
                b.remove(i % b.len());
            }
            Edit::Insert(i, x) => b.insert(i % (b.len() + 1), x),
            Edit::Replace(i, x) => {
                let n = b.len();
                b[i % n] = x;
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text(s in ".{0,400}") {
        run_all(&s);
    }

    #[test]
    fn toml_like_text(s in r#"(\[[a-z_.]{1,12}\]\n|[a-z_]{1,10} = ("[^"\n]{0,20}"|[0-9.-]{1,6}|\{ ?[A-Za-z]{1,3} = [0-9.]{1,4} ?\}|\[("[#0-9a-z]{1,7}",? ?){0,4}\])\n){0,20}"#) {
        run_all(&s);
    }

    #[test]
    fn mutated_mug(edits in prop::collection::vec(edit(), 1..8)) {
        run_all(&mutate(MUG, &edits));
    }

    #[test]
    fn mutated_shirt(edits in prop::collection::vec(edit(), 1..8)) {
        run_all(&mutate(SHIRT, &edits));
    }

    #[test]
    fn mutated_factory(edits in prop::collection::vec(edit(), 1..8)) {
        run_all(&mutate(FACTORY, &edits));
    }

    #[test]
    fn mutated_conditions(cond in r#"[a-z_ ()=!<>,'#0-9.SML-]{0,40}"#) {
        let src = MUG.replace("shape = conical\"", &format!("{}\"", cond.replace('"', "")));
        run_all(&src);
    }
}

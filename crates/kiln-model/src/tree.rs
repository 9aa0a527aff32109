//! A TOML document as a tree with a byte span on every key and value.
//!
//! Deserializing straight into typed structs would stop at the first error;
//! walking this tree instead lets the parser report every problem at once.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

// The toml deserializer hands out spans through `serde_spanned`'s private
// struct protocol. We speak it directly so one visitor can take both spanned
// and plain maps (datetimes arrive as a plain map with a private key).
const SPANNED: &str = "$__serde_spanned_private_Spanned";
const START: &str = "$__serde_spanned_private_start";
const END: &str = "$__serde_spanned_private_end";
const VALUE: &str = "$__serde_spanned_private_value";
const FIELDS: &[&str] = &[START, END, VALUE];
const DATETIME: &str = "$__toml_private_datetime";

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub span: Range<usize>,
    pub val: Val,
}

#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub name: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime,
    Array(Vec<Node>),
    Table(Vec<(Key, Node)>),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Int(_) => "an integer",
            Val::Float(_) => "a float",
            Val::Bool(_) => "a boolean",
            Val::Datetime => "a date",
            Val::Array(_) => "an array",
            Val::Table(_) => "a table",
        }
    }
}

/// Parses a document; its root is always a table.
pub(crate) fn parse(source: &str) -> Result<Vec<(Key, Node)>, toml::de::Error> {
    match toml::from_str::<Val>(source)? {
        Val::Table(t) => Ok(t),
        _ => Ok(Vec::new()),
    }
}

enum Spanned<T> {
    Plain(T),
    Spanned(Range<usize>, T),
}

struct SpannedVisitor<T>(std::marker::PhantomData<T>);

impl<'de> Visitor<'de> for SpannedVisitor<Val> {
    type Value = Spanned<Val>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Spanned::Plain(Val::Str(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Spanned::Plain(Val::Str(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Spanned::Plain(Val::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Spanned::Plain(match i64::try_from(v) {
            Ok(i) => Val::Int(i),
            Err(_) => Val::Float(v as f64),
        }))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Spanned::Plain(Val::Float(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Spanned::Plain(Val::Bool(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            out.push(n);
        }
        Ok(Spanned::Plain(Val::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(Spanned::Plain(Val::Table(Vec::new())));
        };
        if first.name == START {
            let start: usize = map.next_value()?;
            let _ = map.next_key::<Key>()?;
            let end: usize = map.next_value()?;
            let _ = map.next_key::<Key>()?;
            let val: Val = map.next_value()?;
            return Ok(Spanned::Spanned(start..end, val));
        }
        Val::from_map(first.name.clone(), FirstKey(Some(first), map)).map(Spanned::Plain)
    }
}

/// Replays an already-read first key in front of the rest of a map.
struct FirstKey<A>(Option<Key>, A);

impl<'de, A: MapAccess<'de>> FirstKey<A> {
    fn next(&mut self) -> Result<Option<Key>, A::Error> {
        match self.0.take() {
            Some(k) => Ok(Some(k)),
            None => self.1.next_key::<Key>(),
        }
    }
}

impl Val {
    fn from_map<'de, A: MapAccess<'de>>(
        first: String,
        mut map: FirstKey<A>,
    ) -> Result<Self, A::Error> {
        if first == DATETIME {
            let _ = map.next()?;
            let _: String = map.1.next_value()?;
            return Ok(Val::Datetime);
        }
        let mut out = Vec::new();
        while let Some(k) = map.next()? {
            let mut v: Node = map.1.next_value()?;
            // Implicit tables (`option` in `[option.size]`) carry no span of
            // their own; their key's is the best place to point at.
            if v.span.is_empty() {
                v.span = k.span.clone();
            }
            out.push((k, v));
        }
        Ok(Val::Table(out))
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(SpannedVisitor::<Val>(std::marker::PhantomData))? {
            Spanned::Plain(v) | Spanned::Spanned(_, v) => Ok(v),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_struct(
            SPANNED,
            FIELDS,
            SpannedVisitor::<Val>(std::marker::PhantomData),
        )? {
            Spanned::Plain(val) => Ok(Node { span: 0..0, val }),
            Spanned::Spanned(span, val) => Ok(Node { span, val }),
        }
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            name: v.to_owned(),
            span: 0..0,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        let _ = map.next_key::<String>()?;
        let start: usize = map.next_value()?;
        let _ = map.next_key::<String>()?;
        let end: usize = map.next_value()?;
        let _ = map.next_key::<String>()?;
        let name: String = map.next_value()?;
        Ok(Key {
            name,
            span: start..end,
        })
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED, FIELDS, KeyVisitor)
    }
}

//! Segment's HTTP tracking API, parsed: calls (`identify`, `track`, `page`,
//! `screen`, `group`, `alias`) alone or in a batch, with Segment's limits
//! and its correction of the client's clock.
//!
//! Pure: bytes and the time they arrived in, [`Call`]s and the reasons the
//! bad ones were refused out. Nothing here knows profiles or the store.

use kiln_domain::{CallType, IdentityKind, Timestamp};
use serde_json::{Map, Value};

/// Most bytes one call may take (Segment: 32 KB).
pub const MAX_CALL_BYTES: usize = 32 * 1024;
/// Most bytes one batch request may take (Segment: 500 KB).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// One call, checked and ready to resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub message_id: String,
    pub kind: CallType,
    /// A track's event, a page's or screen's name.
    pub name: Option<String>,
    /// The identifiers it carries, as sent (resolution normalises them and
    /// sets junk aside).
    pub identifiers: Vec<(IdentityKind, String)>,
    /// An identify's traits, which the profile takes.
    pub traits: Option<Map<String, Value>>,
    /// When it happened, with the client's clock corrected.
    pub at: Timestamp,
    pub received_at: Timestamp,
    /// The call as it came, without its write key.
    pub body: String,
    /// Kiln's own event (of an order placed in Kiln, a storefront visit):
    /// what it reports is stored already, so it adds no sales history.
    pub own: bool,
}

/// A call of a batch refused, by its place in the batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Refused {
    pub index: usize,
    pub reason: String,
}

/// Why a whole request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// Over [`MAX_BATCH_BYTES`] or [`MAX_CALL_BYTES`].
    TooLarge(String),
    /// Not JSON, or not the shape of a call or a batch.
    Malformed(String),
}

/// A parsed request: its write key if the body carried one, the good calls,
/// and each bad call's reason.
#[derive(Debug, Default)]
pub struct Parsed {
    pub write_key: Option<String>,
    pub calls: Vec<Call>,
    pub refused: Vec<Refused>,
}

/// `POST /v1/{kind}`: one call. A bad call refuses the request.
pub fn parse_single(
    kind: CallType,
    body: &[u8],
    received_at: Timestamp,
) -> Result<Parsed, RequestError> {
    if body.len() > MAX_CALL_BYTES {
        return Err(RequestError::TooLarge(format!(
            "a call may take at most {} KB; this one is {} bytes",
            MAX_CALL_BYTES / 1024,
            body.len()
        )));
    }
    let Value::Object(mut map) = json(body)? else {
        return Err(RequestError::Malformed(
            "the body must be a JSON object".into(),
        ));
    };
    let write_key = take_write_key(&mut map);
    let sent_at = map
        .get("sentAt")
        .and_then(Value::as_str)
        .map(str::to_string);
    let call = parse_call(Some(kind), map, sent_at.as_deref(), None, received_at)
        .map_err(RequestError::Malformed)?;
    Ok(Parsed {
        write_key,
        calls: vec![call],
        refused: Vec::new(),
    })
}

/// `POST /v1/batch`: up to [`MAX_BATCH_BYTES`] of calls; each bad one is
/// refused by its index and the rest are kept.
pub fn parse_batch(body: &[u8], received_at: Timestamp) -> Result<Parsed, RequestError> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(RequestError::TooLarge(format!(
            "a batch may take at most {} KB; this one is {} bytes",
            MAX_BATCH_BYTES / 1024,
            body.len()
        )));
    }
    #[derive(serde::Deserialize)]
    struct Batch<'a> {
        #[serde(borrow)]
        batch: Vec<&'a serde_json::value::RawValue>,
        #[serde(default, rename = "sentAt")]
        sent_at: Option<String>,
        #[serde(default, rename = "writeKey")]
        write_key: Option<String>,
        #[serde(default)]
        context: Option<Map<String, Value>>,
    }
    let batch: Batch = serde_json::from_slice(body).map_err(|e| {
        RequestError::Malformed(format!(
            "the body must be a JSON object with a `batch` array of calls: {e}"
        ))
    })?;
    let mut out = Parsed {
        write_key: batch.write_key,
        ..Parsed::default()
    };
    for (index, raw) in batch.batch.into_iter().enumerate() {
        let parsed = if raw.get().len() > MAX_CALL_BYTES {
            Err(format!(
                "a call may take at most {} KB; this one is {} bytes",
                MAX_CALL_BYTES / 1024,
                raw.get().len()
            ))
        } else {
            match serde_json::from_str::<Value>(raw.get()) {
                Ok(Value::Object(mut map)) => {
                    take_write_key(&mut map);
                    parse_call(
                        None,
                        map,
                        batch.sent_at.as_deref(),
                        batch.context.as_ref(),
                        received_at,
                    )
                }
                Ok(_) => Err("a call must be a JSON object".to_string()),
                Err(e) => Err(format!("not JSON: {e}")),
            }
        };
        match parsed {
            Ok(call) => out.calls.push(call),
            Err(reason) => out.refused.push(Refused { index, reason }),
        }
    }
    Ok(out)
}

fn json(body: &[u8]) -> Result<Value, RequestError> {
    serde_json::from_slice(body).map_err(|e| RequestError::Malformed(format!("not JSON: {e}")))
}

fn take_write_key(map: &mut Map<String, Value>) -> Option<String> {
    match map.remove("writeKey") {
        Some(Value::String(k)) => Some(k),
        _ => None,
    }
}

/// A text field, or a number written as text (some libraries send numeric
/// user ids).
fn id_field(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn text_field(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn object_field<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(format!("`{key}` must be an object")),
    }
}

fn instant(map: &Map<String, Value>, key: &str) -> Result<Option<Timestamp>, String> {
    text_field(map, key)?
        .map(|t| {
            parse_instant(&t)
                .ok_or_else(|| format!("`{key}` is not an ISO 8601 date and time: `{t}`"))
        })
        .transpose()
}

/// An ISO 8601 instant with an offset; one without is taken as UTC, as
/// Segment's libraries in some languages send it.
pub fn parse_instant(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    t.parse::<Timestamp>().ok().or_else(|| {
        t.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// Segment's clock skew correction: `timestamp = receivedAt − (sentAt −
/// originalTimestamp)` when the client said when it sent; the client's
/// time as it is otherwise; the arrival when it gave none. A time that would
/// land after the arrival is the arrival.
pub fn corrected(
    original: Option<Timestamp>,
    sent_at: Option<Timestamp>,
    received_at: Timestamp,
) -> Timestamp {
    let at = match (original, sent_at) {
        (Some(o), Some(s)) => received_at
            .checked_sub(s.duration_since(o))
            .unwrap_or(received_at),
        (Some(o), None) => o,
        (None, _) => received_at,
    };
    at.min(received_at)
}

/// One call, from its JSON object. `kind` is the path's (`/v1/track`) or,
/// in a batch, the call's own `type`.
fn parse_call(
    kind: Option<CallType>,
    mut map: Map<String, Value>,
    batch_sent_at: Option<&str>,
    batch_context: Option<&Map<String, Value>>,
    received_at: Timestamp,
) -> Result<Call, String> {
    let kind = match (kind, text_field(&map, "type")?) {
        (Some(k), _) => k,
        (None, Some(t)) => t.parse::<CallType>().map_err(|_| {
            format!("`type` must be identify, track, page, screen, group or alias, not `{t}`")
        })?,
        (None, None) => return Err("`type` is required in a batch".into()),
    };
    let user_id = id_field(&map, "userId")?;
    let anonymous_id = id_field(&map, "anonymousId")?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err("`userId` or `anonymousId` is required".into());
    }
    let name = match kind {
        CallType::Track => Some(
            text_field(&map, "event")?
                .filter(|e| !e.trim().is_empty())
                .ok_or("a track needs its `event`")?,
        ),
        CallType::Page | CallType::Screen => text_field(&map, "name")?,
        CallType::Group => {
            Some(id_field(&map, "groupId")?.ok_or("a group call needs its `groupId`")?)
        }
        CallType::Alias => {
            if user_id.is_none() {
                return Err("an alias needs its `userId`".into());
            }
            None
        }
        CallType::Identify => None,
    };
    let previous_id = if kind == CallType::Alias {
        Some(id_field(&map, "previousId")?.ok_or("an alias needs its `previousId`")?)
    } else {
        None
    };
    for key in ["properties", "traits", "integrations"] {
        object_field(&map, key)?;
    }
    if let Some(ctx) = batch_context
        && !map.contains_key("context")
    {
        map.insert("context".into(), Value::Object(ctx.clone()));
    }
    let context = object_field(&map, "context")?;
    let original = match instant(&map, "timestamp")? {
        Some(t) => Some(t),
        None => instant(&map, "originalTimestamp")?,
    };
    let sent_at = match instant(&map, "sentAt")? {
        Some(t) => Some(t),
        None => batch_sent_at.and_then(parse_instant),
    };
    let at = corrected(original, sent_at, received_at);
    let message_id = match text_field(&map, "messageId")? {
        Some(m) if !m.trim().is_empty() => {
            if m.len() > 200 {
                return Err("`messageId` may have at most 200 characters".into());
            }
            m
        }
        _ => format!("kiln-{}", uuid::Uuid::now_v7().simple()),
    };

    let mut identifiers = Vec::new();
    if let Some(u) = user_id {
        identifiers.push((IdentityKind::UserId, u));
    }
    if let Some(a) = anonymous_id {
        identifiers.push((IdentityKind::AnonymousId, a));
    }
    if let Some(p) = previous_id {
        identifiers.push((IdentityKind::AnonymousId, p));
    }
    let traits = if kind == CallType::Identify {
        object_field(&map, "traits")?.cloned()
    } else {
        None
    };
    let context_traits = context
        .and_then(|c| c.get("traits"))
        .and_then(Value::as_object);
    for source in [traits.as_ref(), context_traits].into_iter().flatten() {
        for (key, kind) in [
            ("email", IdentityKind::Email),
            ("phone", IdentityKind::Phone),
            ("member_card", IdentityKind::MemberCard),
            ("memberCard", IdentityKind::MemberCard),
        ] {
            if let Some(Value::String(v)) = source.get(key) {
                identifiers.push((kind, v.clone()));
            }
        }
    }
    map.insert("messageId".into(), Value::String(message_id.clone()));
    map.insert("type".into(), Value::String(kind.as_str().into()));
    Ok(Call {
        message_id,
        kind,
        name,
        identifiers,
        traits,
        at,
        received_at,
        body: Value::Object(map).to_string(),
        own: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> Timestamp {
        t.parse().unwrap()
    }

    #[test]
    fn a_batch_keeps_the_good_calls_and_names_the_bad_by_index() {
        let body = br#"{"batch": [
            {"type": "identify", "userId": "u1", "traits": {"email": "A@x.com"}},
            {"type": "identify", "traits": {"email": "b@x.com"}},
            {"type": "track", "anonymousId": "a1"},
            {"type": "dance", "userId": "u2"},
            {"type": "track", "userId": "u3", "event": "Product Viewed"}
        ], "sentAt": "2026-12-05T00:00:10Z"}"#;
        let p = parse_batch(body, at("2026-12-05T00:00:00Z")).unwrap();
        assert_eq!(p.calls.len(), 2);
        let bad: Vec<usize> = p.refused.iter().map(|r| r.index).collect();
        assert_eq!(bad, [1, 2, 3]);
        assert!(p.refused[0].reason.contains("userId"));
        assert!(p.refused[1].reason.contains("event"));
        assert_eq!(
            p.calls[0].identifiers,
            [
                (IdentityKind::UserId, "u1".into()),
                (IdentityKind::Email, "A@x.com".into())
            ]
        );
    }

    #[test]
    fn the_clock_is_corrected_as_segment_does() {
        // The client's clock runs 10 minutes fast: it says it sent at 12:10
        // an event of 12:05; the server got it at 12:00:01.
        let t = corrected(
            Some(at("2026-12-05T12:05:00Z")),
            Some(at("2026-12-05T12:10:00Z")),
            at("2026-12-05T12:00:01Z"),
        );
        assert_eq!(t, at("2026-12-05T11:55:01Z"));
        assert_eq!(
            corrected(None, None, at("2026-12-05T12:00:00Z")),
            at("2026-12-05T12:00:00Z")
        );
    }

    #[test]
    fn limits_refuse_what_is_too_large() {
        let big = format!(
            r#"{{"userId": "u", "event": "E", "properties": {{"x": "{}"}}}}"#,
            "x".repeat(40_000)
        );
        assert!(matches!(
            parse_single(CallType::Track, big.as_bytes(), Timestamp::now()),
            Err(RequestError::TooLarge(_))
        ));
        let one = format!(
            r#"{{"type": "track", "userId": "u", "event": "E", "properties": {{"x": "{}"}}}}"#,
            "x".repeat(40_000)
        );
        let p = parse_batch(
            format!(r#"{{"batch": [{one}]}}"#).as_bytes(),
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(p.refused.len(), 1);
        assert!(p.refused[0].reason.contains("32 KB"));
    }

    #[test]
    fn the_write_key_may_come_in_the_body_and_is_not_kept() {
        let p = parse_single(
            CallType::Track,
            br#"{"writeKey": "wk_secret", "userId": 42, "event": "E"}"#,
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(p.write_key.as_deref(), Some("wk_secret"));
        assert!(!p.calls[0].body.contains("wk_secret"));
        assert_eq!(p.calls[0].identifiers[0].1, "42");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_are_refused_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse_batch(&bytes, Timestamp::now());
            let _ = parse_single(CallType::Identify, &bytes, Timestamp::now());
        }
    }
}

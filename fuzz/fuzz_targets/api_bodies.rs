//! Any bytes as the body of any API route that takes one, with any content
//! type: a client error (400, 415, 422) or success, never a panic or a 500.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    // The first byte picks the route; bit 7 sends a content type other
    // than JSON, taken from the body's first line.
    let (content_type, body) = if which & 0x80 == 0 {
        (Some("application/json"), rest)
    } else {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        (
            std::str::from_utf8(&rest[..end]).ok(),
            &rest[end.min(rest.len())..],
        )
    };
    let status = kiln_server::api::bodies::answer(usize::from(which & 0x7f), content_type, body);
    assert!(
        status.is_success() || status.is_client_error(),
        "answered {status}"
    );
});

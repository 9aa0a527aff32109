//! What every response carries and every form post must pass, whoever
//! handles it.
//!
//! - **Security headers** on every response: a Content-Security-Policy whose
//!   scripts come only from this server (no inline script anywhere; styles
//!   may be inline, as the SVG previews draw with them), `nosniff`, a
//!   referrer kept to this origin, no framing, and HSTS when the request
//!   came over TLS (directly or through a proxy saying so).
//! - **No cross-site form posts.** A browser says where a request comes from
//!   (`Sec-Fetch-Site`, `Origin`); a state-changing request to the web UI
//!   from another site is refused with 403 before any handler runs. With
//!   the `SameSite` session cookies, this is OWASP's "verifying origin with
//!   standard headers" defence against cross-site request forgery. The JSON
//!   API is left to its keys: a browser never sends them by itself.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Scripts and workers only from this server; no plugins, no framing, no
/// base or form target elsewhere.
const CSP: &str = "default-src 'self'; script-src 'self'; worker-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
    media-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// Applies both rules around every route.
pub async fn guard(req: Request, next: Next) -> Response {
    let tls = over_tls(req.headers());
    let mut response = if is_cross_site_form_post(req.method(), req.uri().path(), req.headers()) {
        tracing::warn!(
            path = %req.uri().path(),
            origin = ?req.headers().get(header::ORIGIN),
            "a cross-site post to the web UI was refused"
        );
        refused()
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    // The passport check may use the camera; nothing else may.
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(self), microphone=(), geolocation=()",
    );
    if tls {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// Whether the request reached us over TLS: a proxy in front says so with
/// `X-Forwarded-Proto` or `Forwarded`.
fn over_tls(headers: &HeaderMap) -> bool {
    let said = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    said("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || said("forwarded").is_some_and(|f| f.to_ascii_lowercase().contains("proto=https"))
}

/// A request that changes something in the web UI (not the key-authenticated
/// API), sent by a browser from another site.
fn is_cross_site_form_post(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || path.starts_with("/api/")
    {
        return false;
    }
    let said = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    // Fetch Metadata: every current browser sends it.
    if let Some(site) = said(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    // Older browsers: the Origin of a POST must be this host.
    match (said(header::ORIGIN), said(header::HOST)) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin_host(origin) != Some(host),
        (Some(_), None) => true,
        // No browser headers at all: not a browser, so no ambient cookie to abuse.
        (None, _) => false,
    }
}

/// `host[:port]` of an origin such as `https://shop.example:8443`.
fn origin_host(origin: &str) -> Option<&str> {
    origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
}

fn refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused</title>\
             <link rel=\"stylesheet\" href=\"/static/kiln.css\"></head><body><main>\
             <h1>That did not work</h1><p>This form was sent from another site, so it was refused. \
             Open the page on this site and send it from there.</p></main></body></html>",
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_a_browser_post_from_another_site_is_refused() {
        let post = &Method::POST;
        let ui = "/console/downtimes";
        let host = ("host", "kiln.example:8080");
        for (pairs, refused) in [
            (vec![host, ("sec-fetch-site", "cross-site")], true),
            (vec![host, ("sec-fetch-site", "same-site")], true),
            (vec![host, ("sec-fetch-site", "same-origin")], false),
            (vec![host, ("origin", "http://evil.example")], true),
            (vec![host, ("origin", "null")], true),
            (vec![host, ("origin", "http://kiln.example:8080")], false),
            (vec![host], false),
        ] {
            assert_eq!(
                is_cross_site_form_post(post, ui, &headers(&pairs)),
                refused,
                "{pairs:?}"
            );
        }
        let evil = headers(&[host, ("origin", "http://evil.example")]);
        assert!(!is_cross_site_form_post(&Method::GET, ui, &evil));
        assert!(!is_cross_site_form_post(
            post,
            "/api/v1/brands/demo/orders",
            &evil
        ));
    }

    #[test]
    fn tls_is_what_the_proxy_says() {
        assert!(over_tls(&headers(&[("x-forwarded-proto", "https")])));
        assert!(over_tls(&headers(&[(
            "forwarded",
            "for=1.2.3.4;proto=https"
        )])));
        assert!(!over_tls(&headers(&[("x-forwarded-proto", "http")])));
        assert!(!over_tls(&HeaderMap::new()));
    }
}

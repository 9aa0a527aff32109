//! The address policy: examples of each refused range, and properties over whole ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kiln_webhooks::policy::{AddressPolicy, Refused, UrlError};
use proptest::prelude::*;

const STRICT: AddressPolicy = AddressPolicy {
    allow_loopback: false,
    allow_private: false,
};
const OPEN: AddressPolicy = AddressPolicy {
    allow_loopback: true,
    allow_private: true,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn check(policy: AddressPolicy, s: &str) -> Result<(), Refused> {
    policy.check_ip(ip(s))
}

#[test]
fn default_allows_neither_loopback_nor_private() {
    assert_eq!(AddressPolicy::default(), STRICT);
}

#[test]
fn each_kind_of_address_is_refused_for_the_right_reason() {
    type Reason = fn(IpAddr) -> Refused;
    let cases: &[(&str, Reason)] = &[
        ("127.0.0.1", Refused::Loopback),
        ("127.255.0.9", Refused::Loopback),
        ("::1", Refused::Loopback),
        ("10.1.2.3", Refused::Private),
        ("172.16.0.1", Refused::Private),
        ("172.31.255.255", Refused::Private),
        ("192.168.1.1", Refused::Private),
        ("100.64.0.1", Refused::Private),
        ("100.127.255.255", Refused::Private),
        ("fd12:3456::1", Refused::Private),
        ("fc00::1", Refused::Private),
        ("169.254.169.254", Refused::CloudMetadata),
        ("100.100.100.200", Refused::CloudMetadata),
        ("fd00:ec2::254", Refused::CloudMetadata),
        ("169.254.1.1", Refused::LinkLocal),
        ("fe80::1", Refused::LinkLocal),
        ("0.0.0.0", Refused::Unspecified),
        ("0.1.2.3", Refused::Unspecified),
        ("::", Refused::Unspecified),
        ("224.0.0.1", Refused::Multicast),
        ("255.255.255.255", Refused::Multicast),
        ("ff02::1", Refused::Multicast),
        ("192.0.2.1", Refused::Documentation),
        ("198.51.100.7", Refused::Documentation),
        ("203.0.113.9", Refused::Documentation),
        ("2001:db8::1", Refused::Documentation),
        ("240.0.0.1", Refused::Reserved),
        ("198.18.0.1", Refused::Reserved),
        ("192.0.0.8", Refused::Reserved),
        ("100::1", Refused::Reserved),
        // IPv6 carrying IPv4 is judged by the IPv4 inside, reported as written.
        ("::ffff:127.0.0.1", Refused::Loopback),
        ("::ffff:10.0.0.1", Refused::Private),
        ("::ffff:169.254.169.254", Refused::CloudMetadata),
        ("::127.0.0.1", Refused::Loopback),
        ("64:ff9b::a00:1", Refused::Private),
        ("2002:7f00:1::", Refused::Loopback),
        ("2002:a9fe:a9fe::1", Refused::CloudMetadata),
    ];
    for (text, kind) in cases {
        assert_eq!(check(STRICT, text), Err(kind(ip(text))), "{text}");
    }
}

#[test]
fn the_flags_open_only_their_own_ranges() {
    let loopback = AddressPolicy {
        allow_loopback: true,
        allow_private: false,
    };
    let private = AddressPolicy {
        allow_loopback: false,
        allow_private: true,
    };
    for text in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
        assert_eq!(check(loopback, text), Ok(()), "{text}");
        assert!(check(private, text).is_err(), "{text}");
    }
    for text in [
        "10.0.0.1",
        "172.20.0.1",
        "192.168.0.1",
        "100.64.1.1",
        "fd00::1",
    ] {
        assert_eq!(check(private, text), Ok(()), "{text}");
        assert!(check(loopback, text).is_err(), "{text}");
    }
    for text in [
        "169.254.169.254",
        "100.100.100.200",
        "fd00:ec2::254",
        "fe80::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "192.0.2.1",
    ] {
        assert!(
            check(OPEN, text).is_err(),
            "{text} must be refused whatever the flags"
        );
    }
}

#[test]
fn public_addresses_are_allowed() {
    for text in [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "172.15.255.255",
        "172.32.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "192.169.0.1",
        "223.255.255.254",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert_eq!(check(STRICT, text), Ok(()), "{text}");
    }
}

#[test]
fn refusals_read_as_plain_sentences() {
    assert_eq!(
        check(STRICT, "127.0.0.1").unwrap_err().to_string(),
        "127.0.0.1 is a loopback address; webhooks go to public addresses unless the operator allows loopback"
    );
    assert_eq!(
        check(STRICT, "169.254.169.254").unwrap_err().to_string(),
        "169.254.169.254 is a cloud metadata address; webhooks are never sent there"
    );
}

#[test]
fn check_url_accepts_public_http_and_https() {
    let url = STRICT
        .check_url("https://hooks.example.com/kiln?x=1")
        .unwrap();
    assert_eq!(url.host_str(), Some("hooks.example.com"));
    assert!(STRICT.check_url("http://93.184.216.34:8080/in").is_ok());
    assert!(
        STRICT
            .check_url("https://[2606:4700:4700::1111]/in")
            .is_ok()
    );
}

#[test]
fn check_url_refuses_bad_urls_with_reasons() {
    let err = |u: &str| STRICT.check_url(u).unwrap_err();
    assert!(matches!(err("not a url"), UrlError::Invalid(_)));
    assert_eq!(
        err("ftp://example.com/"),
        UrlError::UnsupportedScheme("ftp".into())
    );
    assert_eq!(
        err("file:///etc/passwd"),
        UrlError::UnsupportedScheme("file".into())
    );
    assert_eq!(
        err("https://user:pw@example.com/"),
        UrlError::HasCredentials
    );
    assert_eq!(err("https://user@example.com/"), UrlError::HasCredentials);
    assert_eq!(
        err("http://localhost:8080/"),
        UrlError::LoopbackName("localhost".into())
    );
    assert_eq!(
        err("http://LOCALHOST./"),
        UrlError::LoopbackName("localhost".into())
    );
    assert_eq!(
        err("http://api.localhost/"),
        UrlError::LoopbackName("api.localhost".into())
    );
    assert!(matches!(
        err("http://127.0.0.1/"),
        UrlError::Refused(Refused::Loopback(_))
    ));
    assert!(matches!(
        err("http://[::1]/"),
        UrlError::Refused(Refused::Loopback(_))
    ));
    assert!(matches!(
        err("http://[::ffff:7f00:1]/"),
        UrlError::Refused(Refused::Loopback(_))
    ));
    // Numeric spellings of 127.0.0.1 are normalised by the URL parser, then refused.
    assert!(matches!(
        err("http://2130706433/"),
        UrlError::Refused(Refused::Loopback(_))
    ));
    assert!(matches!(
        err("http://0x7f.1/"),
        UrlError::Refused(Refused::Loopback(_))
    ));
    assert!(matches!(
        err("http://169.254.169.254/latest/meta-data/"),
        UrlError::Refused(Refused::CloudMetadata(_))
    ));
    let long = format!("https://example.com/{}", "a".repeat(2048));
    assert_eq!(err(&long), UrlError::TooLong(2068));
    assert!(
        STRICT
            .check_url(&format!("https://example.com/{}", "a".repeat(2028)))
            .is_ok()
    );
    assert_eq!(
        err("http://localhost/").to_string(),
        "localhost names this machine (loopback); webhooks go to public addresses unless the operator allows loopback"
    );
}

#[test]
fn check_url_honours_the_flags() {
    let loopback = AddressPolicy {
        allow_loopback: true,
        allow_private: false,
    };
    assert!(loopback.check_url("http://localhost:3000/hook").is_ok());
    assert!(loopback.check_url("http://127.0.0.1:3000/hook").is_ok());
    assert!(loopback.check_url("http://10.0.0.1/hook").is_err());
    assert!(OPEN.check_url("http://10.0.0.1/hook").is_ok());
    assert!(OPEN.check_url("http://169.254.169.254/").is_err());
}

fn in_v4(base: [u8; 4], prefix: u32) -> impl Strategy<Value = IpAddr> {
    let base = u32::from(Ipv4Addr::from(base));
    let host_bits = 32 - prefix;
    (0..(1u64 << host_bits)).prop_map(move |h| IpAddr::V4(Ipv4Addr::from(base | h as u32)))
}

fn in_v6(first_segment: u16, prefix: u32) -> impl Strategy<Value = IpAddr> {
    let base = u128::from(first_segment) << 112;
    any::<u128>().prop_map(move |r| IpAddr::V6(Ipv6Addr::from(base | (r >> prefix))))
}

fn mapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
        v6 => v6,
    }
}

proptest! {
    #[test]
    fn check_ip_never_panics(bits in any::<u128>(), v4 in any::<u32>(), lo in any::<bool>(), pr in any::<bool>()) {
        let policy = AddressPolicy { allow_loopback: lo, allow_private: pr };
        let _ = policy.check_ip(IpAddr::V6(Ipv6Addr::from(bits)));
        let _ = policy.check_ip(IpAddr::V4(Ipv4Addr::from(v4)));
    }

    #[test]
    fn private_ranges_are_refused_unless_allowed(
        ip in prop_oneof![
            in_v4([10, 0, 0, 0], 8), in_v4([172, 16, 0, 0], 12), in_v4([192, 168, 0, 0], 16),
            in_v4([100, 64, 0, 0], 10), in_v6(0xfc00, 7),
        ],
        as_mapped in any::<bool>(),
    ) {
        let ip = if as_mapped { mapped(ip) } else { ip };
        let refused = STRICT.check_ip(ip);
        prop_assert!(matches!(refused, Err(Refused::Private(_) | Refused::CloudMetadata(_))), "{ip}: {refused:?}");
    }

    #[test]
    fn loopback_is_refused_unless_allowed(ip in in_v4([127, 0, 0, 0], 8), as_mapped in any::<bool>()) {
        let ip = if as_mapped { mapped(ip) } else { ip };
        prop_assert_eq!(STRICT.check_ip(ip), Err(Refused::Loopback(ip)));
        prop_assert_eq!(AddressPolicy { allow_loopback: true, allow_private: false }.check_ip(ip), Ok(()));
    }

    #[test]
    fn always_refused_ranges_stay_refused(
        ip in prop_oneof![
            in_v4([169, 254, 0, 0], 16), in_v4([0, 0, 0, 0], 8), in_v4([224, 0, 0, 0], 4),
            in_v4([240, 0, 0, 0], 4), in_v4([192, 0, 2, 0], 24), in_v6(0xfe80, 10), in_v6(0xff00, 8),
        ],
        lo in any::<bool>(), pr in any::<bool>(),
    ) {
        prop_assert!(AddressPolicy { allow_loopback: lo, allow_private: pr }.check_ip(ip).is_err(), "{ip}");
    }

    #[test]
    fn sampled_public_addresses_are_allowed(
        ip in prop_oneof![
            in_v4([1, 0, 0, 0], 8), in_v4([8, 0, 0, 0], 8), in_v4([93, 184, 0, 0], 16),
            in_v4([151, 101, 0, 0], 16), in_v4([185, 199, 108, 0], 22), in_v6(0x2606, 16), in_v6(0x2a00, 16),
        ],
    ) {
        prop_assert_eq!(STRICT.check_ip(ip), Ok(()));
    }
}

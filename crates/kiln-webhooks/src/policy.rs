//! Which addresses webhooks may go to: the defence against server-side request forgery.
//!
//! A webhook URL is typed in by a customer, and our server then makes a request to it
//! from inside our network. Left unchecked, `http://169.254.169.254/` would read the
//! cloud provider's metadata (often with credentials), and `http://10.0.0.5:5432/` would
//! poke an internal database. So a sender only talks to public addresses:
//!
//! - always refused: link-local (169.254/16, fe80::/10) and the cloud metadata
//!   addresses, unspecified (0/8, ::), multicast, broadcast, documentation, benchmarking
//!   and other reserved ranges, and IPv6 outside the global-unicast 2000::/3;
//! - refused unless the operator allows loopback: 127/8, ::1, and the names
//!   `localhost` and `*.localhost`;
//! - refused unless the operator allows private networks: 10/8, 172.16/12,
//!   192.168/16, carrier-grade NAT 100.64/10, and IPv6 unique-local fc00::/7 (and the
//!   old site-local fec0::/10).
//!
//! IPv6 addresses that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
//! IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by
//! the IPv4 address inside, since that is where the packets end up.
//!
//! Checking the URL once is not enough: a hostname can resolve to a public address when
//! it is saved and to 127.0.0.1 when it is used ("DNS rebinding"). The
//! [`Sender`](crate::send::Sender) therefore runs [`AddressPolicy::check_ip`] on every
//! address DNS returns, at connect time, and never follows redirects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reqwest::Url;
use url::Host;

/// The longest webhook URL accepted, in characters.
pub const MAX_URL_CHARS: usize = 2048;

/// What the operator allows beyond public addresses. The default allows neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Allow 127/8, ::1 and `localhost` (for development and tests).
    pub allow_loopback: bool,
    /// Allow 10/8, 172.16/12, 192.168/16, 100.64/10 and fc00::/7 (for on-premises setups).
    pub allow_private: bool,
}

/// Why an address was refused. The messages can be shown to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "{0} is a loopback address; webhooks go to public addresses unless the operator allows loopback"
    )]
    Loopback(IpAddr),
    #[error(
        "{0} is a private network address; webhooks go to public addresses unless the operator allows private networks"
    )]
    Private(IpAddr),
    #[error("{0} is a cloud metadata address; webhooks are never sent there")]
    CloudMetadata(IpAddr),
    #[error("{0} is a link-local address; webhooks are never sent there")]
    LinkLocal(IpAddr),
    #[error("{0} is an unspecified (\"this network\") address; webhooks are never sent there")]
    Unspecified(IpAddr),
    #[error("{0} is a multicast or broadcast address; webhooks go to a single public host")]
    Multicast(IpAddr),
    #[error("{0} is reserved for documentation and examples; webhooks are never sent there")]
    Documentation(IpAddr),
    #[error("{0} is in a reserved address range; webhooks go to public addresses only")]
    Reserved(IpAddr),
}

/// Why a webhook URL was not accepted. The messages can be shown to a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is {0} characters long; at most 2048 are accepted")]
    TooLong(usize),
    #[error("this is not a valid URL ({0})")]
    Invalid(#[from] url::ParseError),
    #[error("webhook URLs must start with http:// or https://, not {0}://")]
    UnsupportedScheme(String),
    #[error("the URL contains a user name or password; remove the part before the \"@\"")]
    HasCredentials,
    #[error("the URL has no host name")]
    MissingHost,
    #[error(
        "{0} names this machine (loopback); webhooks go to public addresses unless the operator allows loopback"
    )]
    LoopbackName(String),
    #[error(transparent)]
    Refused(#[from] Refused),
}

impl AddressPolicy {
    /// Whether a webhook may connect to `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        match classify(ip) {
            Some(Refused::Loopback(_)) if self.allow_loopback => Ok(()),
            Some(Refused::Private(_)) if self.allow_private => Ok(()),
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }

    /// Parses a webhook URL and checks what can be checked before any DNS lookup: the
    /// scheme (http or https), no credentials, a host, the length, and the host itself
    /// when it is an IP address or a `localhost` name.
    pub fn check_url(&self, url: &str) -> Result<Url, UrlError> {
        let chars = url.chars().count();
        if chars > MAX_URL_CHARS {
            return Err(UrlError::TooLong(chars));
        }
        let parsed = Url::parse(url)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(UrlError::UnsupportedScheme(parsed.scheme().to_owned()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(UrlError::HasCredentials);
        }
        match parsed.host() {
            None => return Err(UrlError::MissingHost),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name.is_empty() {
                    return Err(UrlError::MissingHost);
                }
                let loopback = name == "localhost" || name.ends_with(".localhost");
                if loopback && !self.allow_loopback {
                    return Err(UrlError::LoopbackName(name));
                }
            }
        }
        Ok(parsed)
    }
}

/// The refusal an address earns under the strictest policy, or `None` if it is public.
fn classify(ip: IpAddr) -> Option<Refused> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4).map(|f| f(ip)),
        IpAddr::V6(v6) => classify_v6(v6, ip),
    }
}

type Kind = fn(IpAddr) -> Refused;

fn classify_v4(ip: Ipv4Addr) -> Option<Kind> {
    let [a, b, c, _] = ip.octets();
    let kind: Kind = match (a, b, c) {
        _ if is_metadata(IpAddr::V4(ip)) => Refused::CloudMetadata,
        _ if ip.is_broadcast() => Refused::Multicast,
        (0, ..) => Refused::Unspecified,
        (127, ..) => Refused::Loopback,
        (169, 254, _) => Refused::LinkLocal,
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => Refused::Private,
        (100, 64..=127, _) => Refused::Private, // carrier-grade NAT, RFC 6598
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Refused::Documentation,
        (224..=239, ..) => Refused::Multicast,
        (240..=255, ..) => Refused::Reserved,
        (192, 0, 0) => Refused::Reserved, // IETF protocol assignments
        (192, 88, 99) => Refused::Reserved, // deprecated 6to4 relay anycast
        (198, 18..=19, _) => Refused::Reserved, // benchmarking
        _ => return None,
    };
    Some(kind)
}

fn classify_v6(ip: Ipv6Addr, original: IpAddr) -> Option<Refused> {
    if ip.is_unspecified() {
        return Some(Refused::Unspecified(original));
    }
    if ip.is_loopback() {
        return Some(Refused::Loopback(original));
    }
    if is_metadata(original) {
        return Some(Refused::CloudMetadata(original));
    }
    // Addresses that carry an IPv4 address are judged by it, but reported as written.
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4).map(|f| f(original));
    }
    let s = ip.segments();
    let kind: Kind = match s[0] {
        0xff00..=0xffff => Refused::Multicast,
        0xfe80..=0xfebf => Refused::LinkLocal,
        0xfec0..=0xfeff => Refused::Private, // deprecated site-local
        0xfc00..=0xfdff => Refused::Private, // unique local
        0x2001 if s[1] == 0x0db8 => Refused::Documentation,
        0x3fff if s[1] < 0x1000 => Refused::Documentation, // 3fff::/20, RFC 9637
        0x2001 if s[1] == 0x0002 && s[2] == 0 => Refused::Reserved, // benchmarking
        0x2000..=0x3fff => return None,
        _ => Refused::Reserved, // outside global unicast: 100::/64, 64:ff9b:1::/48, ...
    };
    Some(kind(original))
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// Instance metadata services that hold credentials. Some sit outside link-local
/// (Alibaba Cloud's is in the carrier-grade NAT range, AWS's IPv6 one is unique-local),
/// so they are refused even when private networks are allowed.
fn is_metadata(ip: IpAddr) -> bool {
    const V4: [Ipv4Addr; 3] = [
        Ipv4Addr::new(169, 254, 169, 254), // AWS, GCP, Azure, OpenStack, ...
        Ipv4Addr::new(169, 254, 170, 2),   // AWS ECS task metadata
        Ipv4Addr::new(100, 100, 100, 200), // Alibaba Cloud
    ];
    const V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)]; // AWS
    match ip {
        IpAddr::V4(v4) => V4.contains(&v4),
        IpAddr::V6(v6) => V6.contains(&v6),
    }
}

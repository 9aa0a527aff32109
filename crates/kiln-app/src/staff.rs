//! People, not keys: staff accounts with a role, signing in with an email
//! and a password to a session the server keeps.
//!
//! - Passwords are hashed with argon2id (a PHC string per account). A new
//!   password has 12 to 128 characters, is not on the list of common
//!   passwords, not one character repeated, and does not contain the
//!   account's email name.
//! - Signing in answers the same for an unknown email and a wrong password
//!   (and takes as long: an unknown email is checked against a dummy hash),
//!   and is limited per account and per address: after 5 failures for an
//!   account, or 20 from an address, within 15 minutes, it is refused until
//!   the window has passed.
//! - A session is a random secret in the browser's cookie; the store keeps
//!   its SHA-256. It ends when signed out, when its member is removed, after
//!   30 minutes unused, or 12 hours after it began.

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use kiln_domain::{
    AuditAction, AuditEntry, AuditId, BrandId, Role, StaffId, StaffMember, StaffSession,
};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::error::{Error, Found, Result};
use crate::{Actor, App, time};

/// Failures an account may have within [`WINDOW`].
const PER_ACCOUNT: u64 = 5;
/// Failures an address may have within [`WINDOW`].
const PER_ADDRESS: u64 = 20;
const WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// A session unused this long is over.
pub const IDLE: SignedDuration = SignedDuration::from_mins(30);
/// A session this old is over, used or not.
pub const ABSOLUTE: SignedDuration = SignedDuration::from_hours(12);

/// The demo's staff password, printed by `kiln serve --demo`.
pub const DEMO_PASSWORD: &str = "kiln-demo-staff-only";

/// Passwords people pick first; refused whatever their length.
const COMMON: &str = include_str!("common_passwords.txt");

/// A new staff account, as an admin adds it.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub stores: Vec<String>,
    /// Set now, or later by the person (see the invitations).
    pub password: Option<String>,
}

/// A signed-in browser: the secret for its cookie, and who it is.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub member: StaffMember,
}

/// The person behind a session.
#[derive(Debug, Clone)]
pub struct StaffPrincipal {
    pub member: StaffMember,
    /// The brand's slug, for URLs and the brand's runtime.
    pub slug: String,
}

impl StaffPrincipal {
    /// How the audit log names them.
    pub fn actor(&self) -> Actor {
        Actor::Staff(format!("{} ({})", self.member.email, self.member.role))
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random(n: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::internal("the system random source failed"))?;
    Ok(bytes)
}

/// The argon2id hash of `password` (default parameters: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random(16)?)
        .map_err(|e| Error::internal(format!("a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("hashing a password: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Why a new password is refused, if it is.
pub fn password_problem(password: &str, email: &str) -> Option<String> {
    let n = password.chars().count();
    if n < 12 {
        return Some("a password needs at least 12 characters".into());
    }
    if n > 128 {
        return Some("a password has at most 128 characters".into());
    }
    let lower = password.to_lowercase();
    if COMMON.lines().any(|c| c.trim() == lower) {
        return Some("this password is on the list of common passwords; choose another".into());
    }
    let mut chars = lower.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Some("a password cannot be one character repeated".into());
    }
    let name = email.split('@').next().unwrap_or_default().to_lowercase();
    if name.len() >= 4 && lower.contains(&name) {
        return Some("a password cannot contain your email's name".into());
    }
    None
}

fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

impl App {
    /// Adds a staff member to a brand.
    pub async fn add_staff(&self, actor: &Actor, slug: &str, new: NewStaff) -> Result<StaffMember> {
        let brand = self.brand_record(slug).await?;
        let email = normalise(&new.email);
        let mut errors = Vec::new();
        if !(3..=254).contains(&email.len()) || !email.contains('@') {
            errors.push(crate::FieldError::new(
                "/email",
                "an email address like ada@example.com",
            ));
        }
        let name = new.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(crate::FieldError::new(
                "/name",
                "a name of 1 to 100 characters",
            ));
        }
        let stores = self.stores(slug).await?;
        for (i, s) in new.stores.iter().enumerate() {
            if !stores.iter().any(|x| &x.id == s) {
                errors.push(crate::FieldError::new(
                    format!("/stores/{i}"),
                    format!("no store `{s}`"),
                ));
            }
        }
        if new.role == Role::StoreClerk && new.stores.is_empty() {
            errors.push(crate::FieldError::new(
                "/stores",
                "a store clerk works at one store at least",
            ));
        }
        let password_hash = match &new.password {
            Some(p) => match password_problem(p, &email) {
                Some(why) => {
                    errors.push(crate::FieldError::new("/password", why));
                    None
                }
                None => Some(hash_password(p)?),
            },
            None => None,
        };
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let now = time::now();
        let member = StaffMember {
            id: StaffId::new(),
            brand_id: brand.id.clone(),
            email,
            name,
            role: new.role,
            stores: new.stores,
            password_hash,
            created_at: now,
            removed_at: None,
        };
        let entry = audit(&brand.id, actor, AuditAction::StaffAdded, &member, now);
        self.store.add_staff(&member, &entry).await?;
        Ok(member)
    }

    /// A brand's staff.
    pub async fn staff(&self, slug: &str) -> Result<Vec<StaffMember>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.staff(&brand.id).await?)
    }

    /// Removes a staff member: their sessions end at once.
    pub async fn remove_staff(&self, actor: &Actor, slug: &str, id: &StaffId) -> Result<()> {
        let brand = self.brand_record(slug).await?;
        let member = self
            .store
            .staff_member(&brand.id, id)
            .await
            .found(|| format!("no staff member `{id}`"))?;
        let now = time::now();
        let entry = audit(&brand.id, actor, AuditAction::StaffRemoved, &member, now);
        self.store.remove_staff(&brand.id, id, now, &entry).await?;
        Ok(())
    }

    /// Signs in by email and password from `address`. The same refusal for
    /// an unknown email and a wrong password; too many failures are refused
    /// until the window passes (`RateLimited`).
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<SignedIn> {
        let email = normalise(email);
        let now = time::now();
        let account = format!("account:{email}");
        let from = address.map(|a| format!("address:{a}"));
        // Failures are counted in the store, so the limit holds across
        // every server sharing it.
        let since = now - WINDOW;
        let limited = self.store.sign_in_failures(&account, since).await? >= PER_ACCOUNT
            || match &from {
                Some(f) => self.store.sign_in_failures(f, since).await? >= PER_ADDRESS,
                None => false,
            };
        if limited {
            return Err(Error::RateLimited(
                "too many failed sign-ins: wait 15 minutes, or reset the password".into(),
            ));
        }
        let member = self.store.staff_by_email(&email).await?;
        let hash = member
            .as_ref()
            .filter(|m| m.removed_at.is_none())
            .and_then(|m| m.password_hash.clone());
        // An unknown email costs the same as a wrong password.
        let ok = match &hash {
            Some(h) => verify_password(password, h),
            None => {
                let _ = verify_password(password, dummy_hash());
                false
            }
        };
        let Some(member) = member.filter(|_| ok) else {
            let keys: Vec<&str> = std::iter::once(account.as_str())
                .chain(from.as_deref())
                .collect();
            self.store.record_sign_in_failure(&keys, now, since).await?;
            return Err(Error::Unauthorized);
        };
        self.store.clear_sign_in_failures(&account).await?;
        let token = URL_SAFE_NO_PAD.encode(random(32)?);
        self.store
            .add_session(&StaffSession {
                token_hash: hash_token(&token),
                staff_id: member.id.clone(),
                brand_id: member.brand_id.clone(),
                created_at: now,
                last_seen_at: now,
                revoked_at: None,
            })
            .await?;
        Ok(SignedIn { token, member })
    }

    /// Who a session cookie's secret signs in, while the session lasts.
    pub async fn staff_session(&self, token: &str) -> Result<Option<StaffPrincipal>> {
        if token.is_empty() || token.len() > 100 {
            return Ok(None);
        }
        let hash = hash_token(token);
        let Some((session, member)) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        let now = time::now();
        let over = session.revoked_at.is_some()
            || member.removed_at.is_some()
            || now.duration_since(session.last_seen_at) >= IDLE
            || now.duration_since(session.created_at) >= ABSOLUTE;
        if over {
            return Ok(None);
        }
        if now.duration_since(session.last_seen_at) >= SignedDuration::from_mins(1) {
            self.store.touch_session(&hash, now).await?;
        }
        let brands = self.store.brands().await?;
        let Some(brand) = brands.into_iter().find(|b| b.id == member.brand_id) else {
            return Ok(None);
        };
        Ok(Some(StaffPrincipal {
            member,
            slug: brand.slug.to_string(),
        }))
    }

    /// Ends one session.
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        Ok(self
            .store
            .revoke_session(&hash_token(token), time::now())
            .await?)
    }

    /// Ends every session of the signed-in person.
    pub async fn sign_out_everywhere(&self, who: &StaffPrincipal) -> Result<u64> {
        Ok(self
            .store
            .revoke_sessions(&who.member.brand_id, &who.member.id, time::now())
            .await?)
    }

    /// The demo's staff: one account per role (the clerk at the brand's
    /// first store), all with [`DEMO_PASSWORD`]; made once.
    pub async fn seed_demo_staff(&self, slug: &str) -> Result<Vec<StaffMember>> {
        let brand = self.brand_record(slug).await?;
        let stores = self.stores(slug).await?;
        let first = stores.first().map(|s| s.id.clone());
        let mut out = Vec::new();
        for (role, who, name) in [
            (Role::Admin, "admin", "Ada Admin"),
            (Role::ProductManager, "products", "Pat Products"),
            (Role::Planner, "planner", "Pia Planner"),
            (Role::Operator, "operator", "Otto Operator"),
            (Role::StoreClerk, "clerk", "Cleo Clerk"),
            (Role::Analyst, "analyst", "Ana Analyst"),
        ] {
            let email = format!("{who}@{}.kiln.example", brand.slug);
            if let Some(m) = self.store.staff_by_email(&email).await? {
                out.push(m);
                continue;
            }
            let stores = match (role, &first) {
                (Role::StoreClerk, Some(s)) => vec![s.clone()],
                (Role::StoreClerk, None) => continue,
                _ => Vec::new(),
            };
            out.push(
                self.add_staff(
                    &Actor::Cli,
                    slug,
                    NewStaff {
                        email,
                        name: name.into(),
                        role,
                        stores,
                        password: Some(DEMO_PASSWORD.into()),
                    },
                )
                .await?,
            );
        }
        Ok(out)
    }
}

/// A hash no password matches, to spend the same time on an unknown email.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        hash_password("no account has this password, ever")
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into())
    })
}

fn audit(
    brand: &BrandId,
    actor: &Actor,
    action: AuditAction,
    member: &StaffMember,
    at: Timestamp,
) -> AuditEntry {
    AuditEntry {
        id: AuditId::new(),
        brand_id: Some(brand.clone()),
        actor: actor.to_string(),
        action,
        subject: member.id.to_string(),
        detail: format!("{} ({})", member.email, member.role),
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_why() {
        let e = "ada.lovelace@example.com";
        assert!(password_problem("short", e).unwrap().contains("12"));
        assert!(
            password_problem("password1234", e)
                .unwrap()
                .contains("common")
        );
        assert!(
            password_problem("aaaaaaaaaaaaaa", e)
                .unwrap()
                .contains("repeated")
        );
        assert!(
            password_problem("xx-ada.lovelace-xx", e)
                .unwrap()
                .contains("email")
        );
        assert_eq!(password_problem("correct horse battery", e), None);
        assert!(password_problem(&"x".repeat(129), e).is_some());
    }

    #[test]
    fn a_hash_checks_its_password_only() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse battery!", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}

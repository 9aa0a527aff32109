//! Staff join and recover by email: an admin invites a person (their
//! account is made without a password, and a one-time link to set one is
//! mailed, valid 72 hours); anyone may ask for a password reset by email
//! (a link valid one hour is mailed when the email has an account, and the
//! answer is the same when it has none). Using a link sets the password
//! under the same rules as ever, ends the person's sessions, and is
//! possible once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::SignedDuration;
use kiln_domain::{StaffMember, StaffToken, TokenPurpose};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::mail::Mail;
use crate::staff::{NewStaff, hash_password, password_problem};
use crate::{Actor, App, time};

const INVITE_FOR: SignedDuration = SignedDuration::from_hours(72);
const RESET_FOR: SignedDuration = SignedDuration::from_hours(1);

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl App {
    /// A one-time link's secret for `member`, stored as its hash.
    async fn new_link(
        &self,
        member: &StaffMember,
        purpose: TokenPurpose,
        lasts: SignedDuration,
    ) -> Result<String> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::internal("the system random source failed"))?;
        let token = URL_SAFE_NO_PAD.encode(bytes);
        self.store
            .add_staff_token(&StaffToken {
                token_hash: hash(&token),
                brand_id: member.brand_id.clone(),
                staff_id: member.id.clone(),
                purpose,
                expires_at: time::now() + lasts,
                used_at: None,
            })
            .await?;
        Ok(token)
    }

    /// Invites a person: their account, without a password, and a mail with
    /// the link to set one (`{base}/staff/password?token=...`).
    pub async fn invite_staff(
        &self,
        actor: &Actor,
        slug: &str,
        new: NewStaff,
        base: &str,
    ) -> Result<StaffMember> {
        let mailer = self.mailer()?;
        let brand = self.brand_record(slug).await?;
        let member = self
            .add_staff(
                actor,
                slug,
                NewStaff {
                    password: None,
                    ..new
                },
            )
            .await?;
        let token = self
            .new_link(&member, TokenPurpose::Invite, INVITE_FOR)
            .await?;
        mailer
            .send(Mail {
                to: member.email.clone(),
                subject: format!("You are invited to work at {} on Kiln", brand.name),
                body: format!(
                    "Hello {},\n\nYou are invited to {} on Kiln as {}.\n\
                     Set your password (within 72 hours) here:\n\n{}/staff/password?token={token}\n\n\
                     If you did not expect this, ignore this mail.\n",
                    member.name,
                    brand.name,
                    member.role.as_str().replace('_', " "),
                    base.trim_end_matches('/'),
                ),
            })
            .await?;
        Ok(member)
    }

    /// Mails a password reset link to `email` if it has an account; the
    /// same `Ok` when it has none, so the answer tells nothing.
    pub async fn request_password_reset(&self, email: &str, base: &str) -> Result<()> {
        let mailer = self.mailer()?;
        let email = email.trim().to_lowercase();
        let Some(member) = self.store.staff_by_email(&email).await? else {
            return Ok(());
        };
        if member.removed_at.is_some() {
            return Ok(());
        }
        let token = self
            .new_link(&member, TokenPurpose::Reset, RESET_FOR)
            .await?;
        mailer
            .send(Mail {
                to: member.email.clone(),
                subject: "Reset your Kiln password".into(),
                body: format!(
                    "Hello {},\n\nSomeone (we hope you) asked to reset your Kiln password.\n\
                     Set a new one (within an hour) here:\n\n{}/staff/password?token={token}\n\n\
                     If it was not you, ignore this mail: your password stays as it is.\n",
                    member.name,
                    base.trim_end_matches('/'),
                ),
            })
            .await?;
        Ok(())
    }

    /// Who a link is for, while it can still be used.
    pub async fn link_holder(&self, token: &str) -> Result<Option<(StaffMember, TokenPurpose)>> {
        if token.is_empty() || token.len() > 100 {
            return Ok(None);
        }
        let Some(t) = self.store.staff_token(&hash(token)).await? else {
            return Ok(None);
        };
        if t.used_at.is_some() || t.expires_at <= time::now() {
            return Ok(None);
        }
        let member = self.store.staff_member(&t.brand_id, &t.staff_id).await?;
        Ok(member
            .filter(|m| m.removed_at.is_none())
            .map(|m| (m, t.purpose)))
    }

    /// Sets a password through a link, once.
    pub async fn set_password_with_link(&self, token: &str, password: &str) -> Result<StaffMember> {
        let expired = || {
            Error::invalid(
                "/token",
                "this link has expired or was used already: ask for a new one",
            )
        };
        let (member, _) = self.link_holder(token).await?.ok_or_else(expired)?;
        if let Some(why) = password_problem(password, &member.email) {
            return Err(Error::invalid("/password", why));
        }
        let hashed = hash_password(password)?;
        if !self
            .store
            .use_staff_token(&hash(token), time::now(), &hashed)
            .await?
        {
            return Err(expired());
        }
        Ok(member)
    }
}

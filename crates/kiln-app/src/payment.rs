//! Payment providers. An order's payment goes through one adapter; the
//! built-in one is manual (offline): the customer pays by bank transfer or at
//! the counter quoting a reference, and staff record that it arrived.

use kiln_domain::{Payment, PaymentStatus};
use rust_decimal::Decimal;

/// What a payment provider must do for an order being placed.
pub trait PaymentProvider: Send + Sync {
    fn id(&self) -> &'static str;
    /// Starts the payment for an order; called before the order is written,
    /// so the payment is stored with it in the same transaction.
    fn open(&self, order_id: &str, amount: Decimal, currency: &str) -> Payment;
    /// What open payment `p`'s instructions say once its order changed to
    /// `amount` (`cancelled`: the whole order). By default they stay as
    /// they are.
    fn restate(&self, p: &Payment, _amount: Decimal, _cancelled: bool) -> String {
        p.instructions.clone()
    }
}

/// The provider a stored payment went through, if Kiln has it.
fn provider(id: &str) -> Option<&'static dyn PaymentProvider> {
    (id == Manual.id()).then_some(&Manual as &'static dyn PaymentProvider)
}

/// Offline payment: bank transfer or at the counter.
pub struct Manual;

impl PaymentProvider for Manual {
    fn id(&self) -> &'static str {
        "manual"
    }

    fn open(&self, order_id: &str, amount: Decimal, currency: &str) -> Payment {
        // The reference is short enough to type into a banking app.
        let tail: String = order_id
            .chars()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let reference = format!("KILN-{}", tail.to_uppercase());
        Payment {
            provider: self.id().into(),
            status: PaymentStatus::AwaitingPayment,
            amount,
            currency: currency.into(),
            instructions: manual_instructions(amount, currency, &reference),
            reference,
        }
    }

    /// The instructions name the amount to pay, so they are written again.
    fn restate(&self, p: &Payment, amount: Decimal, cancelled: bool) -> String {
        if cancelled {
            return format!(
                "Nothing to pay: the order was cancelled. A payment already sent quoting {} is refunded.",
                p.reference
            );
        }
        manual_instructions(amount, &p.currency, &p.reference)
    }
}

/// How to pay `amount` by hand, quoting the payment's reference.
fn manual_instructions(amount: Decimal, currency: &str, reference: &str) -> String {
    format!(
        "Pay {amount} {currency} by bank transfer or at the counter, quoting {reference}. \
         Production does not wait for it."
    )
}

/// What an open payment's instructions say once its order changed to
/// `amount` (`cancelled`: the whole order), in its provider's words.
pub fn restate(p: &Payment, amount: Decimal, cancelled: bool) -> String {
    match provider(&p.provider) {
        Some(provider) => provider.restate(p, amount, cancelled),
        None => p.instructions.clone(),
    }
}

/// A payment to be filled in once the order's total is known.
pub fn placeholder() -> Payment {
    Payment {
        provider: String::new(),
        status: PaymentStatus::AwaitingPayment,
        amount: Decimal::ZERO,
        currency: String::new(),
        reference: String::new(),
        instructions: String::new(),
    }
}

/// An after-sales order's payment: nothing is due.
pub fn free_of_charge(currency: &str) -> Payment {
    Payment {
        provider: "none".into(),
        status: PaymentStatus::Paid,
        amount: Decimal::ZERO,
        currency: currency.into(),
        reference: String::new(),
        instructions: "A repair or remake under a claim: free of charge.".into(),
    }
}

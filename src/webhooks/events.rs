//! What a webhook can be sent for, and where a delivery stands.

use crate::domain::text_enum::text_enum;

text_enum! {
    /// An event type, by the name the payload's `webhookType` carries. `new_employee` is
    /// meetergo's own name; the others are the console's.
    pub enum WebhookEventType {
        NewEmployee => "new_employee",
        EmployeeOffboarded => "employee_offboarded",
        CredentialCreated => "credential_created",
        CredentialRevoked => "credential_revoked",
        CredentialExpiring => "credential_expiring",
        /// "Send test event" on the delivery log: goes to that one endpoint only.
        Test => "test",
    }
}

impl WebhookEventType {
    /// The types an endpoint can subscribe to (everything but the test event).
    pub fn subscribable() -> impl Iterator<Item = Self> {
        Self::ALL.iter().copied().filter(|t| *t != Self::Test)
    }
}

text_enum! {
    /// Where one delivery of one event to one endpoint stands.
    pub enum DeliveryState {
        /// Not yet delivered; attempted again at `next_attempt_at`.
        Pending => "pending",
        Succeeded => "succeeded",
        /// Retries ran out (or the endpoint was deleted/disabled); "Redeliver" starts it again.
        Failed => "failed",
    }
}

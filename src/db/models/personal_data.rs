//! The reads of the personal-data export (`services::export`): a person's rows page by page,
//! each page starting after the last row of the one before (keyset pagination), so a page costs
//! the same however far into the person's data it is, and nothing holds all of it at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    appointments, audit_events, meeting_types, personal_access_tokens as pats,
    platform_api_keys as keys,
};
use crate::db::DbConnection;
use crate::domain::{AppointmentId, AuditEventId, CompanyId, MeetingTypeId, UserId};

use super::{Appointment, AuditEvent, MeetingType, PersonalAccessToken, PlatformApiKey};

/// Where the next page of audit events starts: after this (time, id).
pub type AuditCursor = (NaiveDateTime, AuditEventId);

/// Whose audit events the export holds: events of `company` that `user` did, or whose target
/// names them (by id, as most targets do, or by their address, as invitations do).
pub struct AuditSubject<'a> {
    pub company: &'a CompanyId,
    pub user: &'a UserId,
    pub email: &'a str,
}

/// `text` for a LIKE pattern that matches it literally (`\` is the escape character).
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl MeetingType {
    /// Up to `limit` of the owner's meeting types (deleted ones too), by id, after `after`.
    pub fn export_page(
        conn: &mut DbConnection,
        owner: &UserId,
        after: Option<&MeetingTypeId>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut q = meeting_types::table
            .filter(meeting_types::owner_id.eq(owner))
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(meeting_types::id.gt(after));
        }
        q.order(meeting_types::id.asc()).limit(limit).load(conn)
    }
}

impl Appointment {
    /// Up to `limit` of the appointments the user hosts, by id, after `after`.
    pub fn export_page(
        conn: &mut DbConnection,
        host: &UserId,
        after: Option<&AppointmentId>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut q = appointments::table
            .filter(appointments::host_id.eq(host))
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(appointments::id.gt(after));
        }
        q.order(appointments::id.asc()).limit(limit).load(conn)
    }
}

impl AuditEvent {
    /// Up to `limit` of the subject's events, oldest first, after `after`. Walks the company's
    /// events in the order of its index (`company_id, created_at`) and stops at `limit`
    /// matches: all pages together read the company's log once.
    pub fn export_page(
        conn: &mut DbConnection,
        subject: &AuditSubject<'_>,
        after: Option<&AuditCursor>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let id_pattern = format!("%{}%", like_literal(subject.user.as_str()));
        let email_pattern = format!("{} %", like_literal(subject.email));
        let mut q = audit_events::table
            .filter(audit_events::company_id.eq(subject.company))
            .filter(
                audit_events::actor_id
                    .eq(subject.user.as_str())
                    .or(audit_events::target.like(id_pattern).escape('\\'))
                    .or(audit_events::target.eq(subject.email))
                    .or(audit_events::target.like(email_pattern).escape('\\')),
            )
            .into_boxed();
        if let Some((at, id)) = after {
            // `created_at >= at` alone lets the index range start at the cursor.
            q = q
                .filter(audit_events::created_at.ge(*at))
                .filter(audit_events::created_at.gt(*at).or(audit_events::id.gt(id)));
        }
        q.order((audit_events::created_at.asc(), audit_events::id.asc()))
            .limit(limit)
            .load(conn)
    }
}

impl PersonalAccessToken {
    /// All of the user's tokens, revoked ones too, oldest first.
    pub fn all_of(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<Self>> {
        pats::table
            .filter(pats::user_id.eq(user))
            .order((pats::created_at.asc(), pats::id.asc()))
            .load(conn)
    }
}

impl PlatformApiKey {
    /// Every key the user created in the company, revoked ones too, oldest first.
    pub fn all_created_by(
        conn: &mut DbConnection,
        company: &CompanyId,
        user: &UserId,
    ) -> QueryResult<Vec<Self>> {
        keys::table
            .filter(keys::company_id.eq(company))
            .filter(keys::created_by.eq(user))
            .order((keys::created_at.asc(), keys::id.asc()))
            .load(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::like_literal;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_literal("a_b%c\\d@x.org"), "a\\_b\\%c\\\\d@x.org");
    }
}

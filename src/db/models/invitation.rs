use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{invitations, users};
use crate::db::DbConnection;
use crate::domain::{CompanyId, InvitationId, Role, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: InvitationId,
    pub company_id: CompanyId,
    pub email: String,
    pub role: Role,
    pub token_hash: String,
    pub invited_by: UserId,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Why an invitation link no longer lets anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl Invitation {
    pub fn state(&self, now: NaiveDateTime) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(invitations::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Self>> {
        invitations::table
            .filter(invitations::token_hash.eq(hash))
            .first(conn)
            .optional()
    }

    pub fn find_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        id: &InvitationId,
    ) -> QueryResult<Option<Self>> {
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::company_id.eq(company))
            .first(conn)
            .optional()
    }

    /// Invitations not yet accepted, revoked or expired, with the inviter's name.
    pub fn pending_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<(Self, String)>> {
        invitations::table
            .inner_join(users::table.on(users::id.eq(invitations::invited_by)))
            .filter(invitations::company_id.eq(company))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(invitations::expires_at.gt(now))
            .order(invitations::created_at.desc())
            .select((Self::as_select(), users::name))
            .load(conn)
    }

    /// The newest pending invitation for this email, optionally only from one company.
    pub fn pending_for_email(
        conn: &mut DbConnection,
        email: &str,
        company: Option<&CompanyId>,
        now: NaiveDateTime,
    ) -> QueryResult<Option<Self>> {
        let mut q = invitations::table
            .filter(invitations::email.eq(email))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(invitations::expires_at.gt(now))
            .into_boxed();
        if let Some(c) = company {
            q = q.filter(invitations::company_id.eq(c));
        }
        q.order(invitations::created_at.desc())
            .first(conn)
            .optional()
    }

    pub fn pending_sent_by(
        conn: &mut DbConnection,
        user: &UserId,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        invitations::table
            .filter(invitations::invited_by.eq(user))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(invitations::expires_at.gt(now))
            .load(conn)
    }

    /// Marks the invitation used, only if it still is pending: a second use finds nothing.
    pub fn mark_accepted(
        conn: &mut DbConnection,
        id: &InvitationId,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(
            invitations::table
                .find(id)
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::revoked_at.is_null())
                .filter(invitations::expires_at.gt(now)),
        )
        .set(invitations::accepted_at.eq(now))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Removes an invitation nobody has used; a used one stays. Answers whether it was removed.
    pub fn delete_unused(conn: &mut DbConnection, id: &InvitationId) -> QueryResult<bool> {
        let n = diesel::delete(
            invitations::table
                .find(id)
                .filter(invitations::accepted_at.is_null()),
        )
        .execute(conn)?;
        Ok(n == 1)
    }

    pub fn revoke(
        conn: &mut DbConnection,
        id: &InvitationId,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            invitations::table
                .find(id)
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::revoked_at.is_null()),
        )
        .set(invitations::revoked_at.eq(now))
        .execute(conn)
    }

    /// Deletes invitations nobody accepted whose link expired before `expired_before`: their
    /// link can no longer be used (a resend renews only a row that exists). Accepted ones stay.
    pub fn purge_unused_expired(
        conn: &mut DbConnection,
        expired_before: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::delete(
            invitations::table
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::expires_at.le(expired_before)),
        )
        .execute(conn)
    }

    /// A new secret (and a new expiry) for a pending invitation whose secret is still
    /// `old_hash`; the old link stops working. False if it was used, revoked or renewed since.
    pub fn renew(
        conn: &mut DbConnection,
        id: &InvitationId,
        old_hash: &str,
        hash: &str,
        expires_at: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(
            invitations::table
                .find(id)
                .filter(invitations::token_hash.eq(old_hash))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::revoked_at.is_null()),
        )
        .set((
            invitations::token_hash.eq(hash),
            invitations::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }
}

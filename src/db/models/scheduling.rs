use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{appointments, meeting_types};
use crate::db::DbConnection;
use crate::domain::{AppointmentId, MeetingTypeId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = meeting_types)]
pub struct MeetingType {
    pub id: MeetingTypeId,
    pub owner_id: UserId,
    pub title: String,
    pub slug: String,
    pub duration_minutes: i32,
    pub created_at: NaiveDateTime,
    /// Set by a (soft) delete: the row stays for history, lists and look-ups skip it.
    pub deleted_at: Option<NaiveDateTime>,
}

impl MeetingType {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(meeting_types::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// The owner's meeting types that are not deleted.
    pub fn list_for_owner(conn: &mut DbConnection, owner: &UserId) -> QueryResult<Vec<Self>> {
        meeting_types::table
            .filter(meeting_types::owner_id.eq(owner))
            .filter(meeting_types::deleted_at.is_null())
            .order((meeting_types::created_at.asc(), meeting_types::id.asc()))
            .load(conn)
    }

    /// All of the owner's meeting types, deleted ones included (they keep their slugs).
    pub fn list_all_for_owner(conn: &mut DbConnection, owner: &UserId) -> QueryResult<Vec<Self>> {
        meeting_types::table
            .filter(meeting_types::owner_id.eq(owner))
            .order((meeting_types::created_at.asc(), meeting_types::id.asc()))
            .load(conn)
    }

    pub fn find_for_owner(
        conn: &mut DbConnection,
        owner: &UserId,
        id: &MeetingTypeId,
    ) -> QueryResult<Option<Self>> {
        meeting_types::table
            .filter(meeting_types::id.eq(id))
            .filter(meeting_types::owner_id.eq(owner))
            .filter(meeting_types::deleted_at.is_null())
            .first(conn)
            .optional()
    }

    /// The meeting type with this id, deleted or not.
    pub fn find(conn: &mut DbConnection, id: &MeetingTypeId) -> QueryResult<Option<Self>> {
        meeting_types::table
            .filter(meeting_types::id.eq(id))
            .first(conn)
            .optional()
    }

    /// Soft-deletes the meeting type if it is not deleted yet; false when it already was
    /// (also by a request at the same moment: the condition is part of the update).
    pub fn soft_delete(
        conn: &mut DbConnection,
        id: &MeetingTypeId,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            meeting_types::table
                .find(id)
                .filter(meeting_types::deleted_at.is_null()),
        )
        .set(meeting_types::deleted_at.eq(at))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Soft-deletes every meeting type the user still has; the number deleted.
    pub fn soft_delete_all_of(
        conn: &mut DbConnection,
        owner: &UserId,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            meeting_types::table
                .filter(meeting_types::owner_id.eq(owner))
                .filter(meeting_types::deleted_at.is_null()),
        )
        .set(meeting_types::deleted_at.eq(at))
        .execute(conn)
    }

    pub fn slug_taken(
        conn: &mut DbConnection,
        owner: &UserId,
        slug: &str,
        except: Option<&MeetingTypeId>,
    ) -> QueryResult<bool> {
        let mut q = meeting_types::table
            .filter(meeting_types::owner_id.eq(owner))
            .filter(meeting_types::slug.eq(slug))
            .into_boxed();
        if let Some(id) = except {
            q = q.filter(meeting_types::id.ne(id));
        }
        Ok(q.count().get_result::<i64>(conn)? > 0)
    }

    pub fn update_fields(
        conn: &mut DbConnection,
        id: &MeetingTypeId,
        title: &str,
        slug: &str,
        duration_minutes: i32,
    ) -> QueryResult<usize> {
        diesel::update(meeting_types::table.find(id))
            .set((
                meeting_types::title.eq(title),
                meeting_types::slug.eq(slug),
                meeting_types::duration_minutes.eq(duration_minutes),
            ))
            .execute(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = appointments)]
pub struct Appointment {
    pub id: AppointmentId,
    pub meeting_type_id: MeetingTypeId,
    pub host_id: UserId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub attendee_name: String,
    pub attendee_email: String,
    pub created_at: NaiveDateTime,
}

impl Appointment {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(appointments::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn page_for_host(
        conn: &mut DbConnection,
        host: &UserId,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let total = appointments::table
            .filter(appointments::host_id.eq(host))
            .count()
            .get_result(conn)?;
        let rows = appointments::table
            .filter(appointments::host_id.eq(host))
            .order((appointments::starts_at.asc(), appointments::id.asc()))
            .limit(limit)
            .offset(offset)
            .load(conn)?;
        Ok((rows, total))
    }
}

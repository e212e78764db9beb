//! Meeting types beyond plain edits: the default one a new user gets, and the soft delete.

use crate::authz::{authorize, Action, Principal};
use crate::db::models::{now, MeetingType, User};
use crate::db::{Db, DbConnection};
use crate::domain::{CompanyId, MeetingTypeId, UserId};
use crate::error::AppError;

/// What a user created through the API can be booked for until they set up their own.
pub const DEFAULT_TITLE: &str = "30 Minute Meeting";
pub const DEFAULT_SLUG: &str = "30min";
pub const DEFAULT_MINUTES: i32 = 30;

/// Gives a new user the default 30-minute meeting type. Call inside a transaction.
pub fn provision_default(conn: &mut DbConnection, owner: &UserId) -> Result<MeetingType, AppError> {
    let mt = MeetingType {
        id: MeetingTypeId::new(),
        owner_id: owner.clone(),
        title: DEFAULT_TITLE.to_owned(),
        slug: DEFAULT_SLUG.to_owned(),
        duration_minutes: DEFAULT_MINUTES,
        created_at: now(),
        deleted_at: None,
    };
    mt.insert(conn)?;
    Ok(mt)
}

/// Soft-deletes a meeting type of the actor's company: it disappears from lists and look-ups,
/// stays in the database for history (its appointments refer to it), and keeps its slug, so an
/// old booking link never leads to another meeting type. `NotFound` when it is unknown, in
/// another company or already deleted (also by a request at the same moment: the update is
/// conditional); `Forbidden` when the actor may not delete it. Call inside a transaction.
pub async fn delete(
    db: &Db,
    by: impl Principal,
    company: CompanyId,
    id: MeetingTypeId,
) -> Result<(), AppError> {
    db.transaction(move |conn| {
        let mt = MeetingType::find(conn, &id)?
            .filter(|m| m.deleted_at.is_none())
            .ok_or(AppError::NotFound)?;
        let owner =
            User::find_in_company(conn, &company, &mt.owner_id)?.ok_or(AppError::NotFound)?;
        authorize(by.actor(), Action::DeleteMeetingTypeOf(&owner))
            .map_err(|_| AppError::Forbidden)?;
        if MeetingType::soft_delete(conn, &mt.id, now())? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await
}

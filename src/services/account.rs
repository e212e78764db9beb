//! A person's own account: their name and their browser sessions. Each change is audited.

use crate::db::models::{BrowserSession, User};
use crate::db::Db;
use crate::domain::Label;
use crate::error::{AppError, Refusal, RefusalKind};
use crate::services::audit::{self, AuditKind};
use crate::services::team::event;
use crate::services::Acting;

/// Renames the acting person.
pub async fn rename(db: &Db, by: Acting, name: Label) -> Result<(), AppError> {
    db.transaction(move |tx| {
        use crate::db::schema::users;
        use diesel::prelude::*;
        if by.user.name == name.as_str() {
            return Ok(());
        }
        diesel::update(users::table.find(&by.user.id))
            .set((users::name.eq(name.as_str()), users::updated_at.eq(by.now)))
            .execute(&mut **tx)?;
        audit::record(
            tx,
            &by.origin,
            event(AuditKind::ProfileUpdated, &by.user).detail("name changed"),
        )?;
        Ok(())
    })
    .await
}

/// The acting person's live sessions.
pub async fn sessions(db: &Db, user: &User) -> Result<Vec<BrowserSession>, AppError> {
    let id = user.id.clone();
    db.run(move |conn| BrowserSession::of_user(conn, &id)).await
}

/// Ends one of the acting person's sessions (`id`: its row id).
pub async fn end_session(db: &Db, by: Acting, id: String) -> Result<(), AppError> {
    db.transaction(move |tx| {
        if BrowserSession::end(tx, &by.user.id, &id)? == 0 {
            return Err(Refusal::new(RefusalKind::Gone, "That session has already ended.").into());
        }
        audit::record(
            tx,
            &by.origin,
            event(AuditKind::SessionEnded, &by.user).detail("one session, from the account page"),
        )?;
        Ok(())
    })
    .await
}

/// Ends every session of the acting person but the one they use (`keep`: its row id).
pub async fn end_other_sessions(db: &Db, by: Acting, keep: String) -> Result<usize, AppError> {
    db.transaction(move |tx| {
        let ended = BrowserSession::end_all_but(tx, &by.user.id, &keep)?;
        audit::record(
            tx,
            &by.origin,
            event(AuditKind::SessionsEnded, &by.user)
                .target(format!("{} ({})", by.user.email, by.user.id))
                .detail(format!("{ended} other sessions, from the account page")),
        )?;
        Ok(ended)
    })
    .await
}

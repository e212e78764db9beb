//! What a page handler knows about its request, in one extractor: the application, where the
//! request came from, the time, and (for `Member`) who is signed in.

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;

use crate::auth::session::CurrentUser;
use crate::authz::{authorize, Action, Actor};
use crate::error::AppError;
use crate::services::audit::Origin;
use crate::services::Acting;
use crate::state::AppState;
use crate::web::page::{redirect_with_flash, FlashKind};

/// Anyone's request: the sign-in pages, invitation links, SSO callbacks.
pub struct Visitor {
    pub app: web::Data<AppState>,
    pub req: HttpRequest,
    pub origin: Origin,
    pub now: NaiveDateTime,
}

/// A signed-in, active member's request (behind `require_sign_in`).
pub struct Member {
    pub me: CurrentUser,
    pub app: web::Data<AppState>,
    pub req: HttpRequest,
    pub origin: Origin,
    pub now: NaiveDateTime,
}

fn visitor(req: &HttpRequest) -> Result<Visitor, AppError> {
    let app = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let now = app.clock.now();
    Ok(Visitor {
        app,
        req: req.clone(),
        origin: Origin::of(req),
        now,
    })
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(visitor(req))
    }
}

impl FromRequest for Member {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let me = req.extensions().get::<CurrentUser>().cloned();
        ready(match me {
            // Only routes behind `require_sign_in` take a `Member`; elsewhere, sign in first.
            None => Err(AppError::LoginRequired),
            Some(me) => visitor(req).map(|v| Member {
                me,
                app: v.app,
                req: v.req,
                origin: v.origin,
                now: v.now,
            }),
        })
    }
}

impl Visitor {
    /// The person (once known) doing something now, from here.
    pub fn acting(&self, user: &crate::db::models::User) -> Acting {
        Acting {
            user: user.clone(),
            origin: self.origin.clone(),
            now: self.now,
        }
    }

    pub fn redirect_with_flash(&self, to: &str, kind: FlashKind, text: &str) -> HttpResponse {
        redirect_with_flash(&self.req, to, kind, text)
    }
}

impl Member {
    /// Refuses with 403 unless the signed-in member may do `action`.
    pub fn require(&self, action: Action<'_>) -> Result<(), AppError> {
        authorize(Actor::Member(&self.me.user), action).map_err(|_| AppError::Forbidden)
    }

    /// The signed-in member doing something now, from here: what an audited write needs.
    pub fn acting(&self) -> Acting {
        Acting {
            user: self.me.user.clone(),
            origin: self.origin.clone(),
            now: self.now,
        }
    }

    pub fn redirect_with_flash(&self, to: &str, kind: FlashKind, text: &str) -> HttpResponse {
        redirect_with_flash(&self.req, to, kind, text)
    }
}

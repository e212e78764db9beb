//! Counts each `/v4` request of an identified credential by its outcome, after the response
//! is known. In memory only (see `services::usage`): no query, no allocation beyond the map's
//! entry for a credential not yet seen since the last flush.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::services::usage::IdentifiedCredential;
use crate::state::AppState;

pub async fn count_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    // Requests without a valid credential left nothing here and are not attributed.
    let identified = res
        .request()
        .extensions_mut()
        .remove::<IdentifiedCredential>();
    if let Some(mark) = identified {
        if let Some(app) = res.request().app_data::<web::Data<AppState>>() {
            app.usage.record(mark, res.status());
        }
    }
    Ok(res)
}

//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    appointment, credentials, error, meeting_type, personal_data, user, user_lifecycle, webhooks,
};

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "personal_access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rgo-...")
                    .description(Some("A Personal Access Token; acts as its owner."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "platform_api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ak_live:<uuid>:<secret>")
                    .description(Some(
                        "A Platform API Key; acts as the company user named in x-meetergo-api-user-id.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "acting_user_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-meetergo-api-user-id",
                "With a Platform API Key: the id of the user to act as.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "meetergo-console API", version = "4", description = "The /v4 API: who it treats you as depends on the credential."),
    paths(
        user::me, user::list, user_lifecycle::create, user::update, user_lifecycle::delete,
        meeting_type::list, meeting_type::create, meeting_type::get_one, meeting_type::update,
        meeting_type::delete,
        appointment::paginated,
        credentials::revoke_leaked,
        personal_data::export,
        webhooks::list, webhooks::create, webhooks::update, webhooks::delete,
    ),
    components(schemas(error::ErrorBody, error::FieldProblem)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

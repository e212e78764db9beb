//! Text no field can hold is refused at the door, before sessions, CSRF, handlers or queries
//! see it: control characters (NUL above all, which PostgreSQL cannot store in text) and bytes
//! that are not UTF-8 once percent-decoded (serde would quietly turn them into U+FFFD).
//! A path that holds them names nothing (404); a query or a body that holds them is a bad
//! request (400). Form and JSON bodies may keep tab, CR and LF: SAML metadata is multi-line.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};

use crate::api::error::ApiError;
use crate::error::AppError;
use crate::scim::error::ScimError;

/// Where a text came from, which decides what may be in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The path and the query: one line, no control characters at all.
    Address,
    /// Form fields and JSON strings: tab, CR and LF allowed.
    Body,
}

fn allowed(c: char, place: Place) -> bool {
    !c.is_control() || (place == Place::Body && matches!(c, '\t' | '\r' | '\n'))
}

/// True when `bytes`, percent-decoded (with `+` as a space when `plus_is_space`), are UTF-8
/// text without a character that `place` refuses.
fn readable(raw: &[u8], plus_is_space: bool, place: Place) -> bool {
    let decoded = percent_decode(raw, plus_is_space);
    std::str::from_utf8(&decoded).is_ok_and(|text| text.chars().all(|c| allowed(c, place)))
}

fn percent_decode(raw: &[u8], plus_is_space: bool) -> Vec<u8> {
    // A lone `%` is kept as it is, as every decoder does.
    if plus_is_space && raw.contains(&b'+') {
        let spaced: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        return percent_encoding::percent_decode(&spaced).collect();
    }
    percent_encoding::percent_decode(raw).collect()
}

/// Every name and value of an `application/x-www-form-urlencoded` text.
fn form_is_readable(raw: &[u8], place: Place) -> bool {
    raw.split(|&b| b == b'&')
        .flat_map(|pair| pair.splitn(2, |&b| b == b'='))
        .all(|part| readable(part, true, place))
}

/// Every key and string of a JSON document; a document that does not parse is left to the
/// handler's own JSON error.
fn json_is_readable(raw: &[u8]) -> bool {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(raw) else {
        return true;
    };
    let text_ok = |s: &str| s.chars().all(|c| allowed(c, Place::Body));
    let mut pending = vec![&document];
    while let Some(value) = pending.pop() {
        match value {
            serde_json::Value::String(s) if !text_ok(s) => return false,
            serde_json::Value::Array(items) => pending.extend(items),
            serde_json::Value::Object(map) => {
                if !map.keys().all(|k| text_ok(k)) {
                    return false;
                }
                pending.extend(map.values());
            }
            _ => {}
        }
    }
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
    Other,
}

fn body_kind(req: &ServiceRequest) -> BodyKind {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        return BodyKind::Other;
    }
    let content_type = req.content_type().to_ascii_lowercase();
    if content_type == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else if content_type.starts_with("application/") && content_type.ends_with("json") {
        BodyKind::Json
    } else {
        BodyKind::Other
    }
}

/// Who answers a refusal: the pages (HTML), `/v4` (its JSON) or SCIM (its error schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    Page,
    Api,
    Scim,
}

impl Surface {
    fn of(path: &str) -> Self {
        if crate::paths::api::is_api(path) {
            Self::Api
        } else if crate::paths::scim::is_scim(path) {
            Self::Scim
        } else {
            Self::Page
        }
    }
}

fn not_found(surface: Surface) -> HttpResponse {
    match surface {
        Surface::Api => ApiError::not_found().error_response(),
        Surface::Scim => ScimError::not_found().error_response(),
        Surface::Page => AppError::NotFound.error_response(),
    }
}

fn bad_request(surface: Surface, what: &str) -> HttpResponse {
    let message = format!(
        "The {what} contains characters that are not allowed (control characters or text that is not UTF-8)."
    );
    match surface {
        Surface::Api => ApiError::bad_request(message).error_response(),
        Surface::Scim => ScimError::invalid_syntax(message).error_response(),
        Surface::Page => AppError::BadRequest(message).error_response(),
    }
}

pub async fn refuse_unreadable_input(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let surface = Surface::of(req.path());
    let api = surface != Surface::Page;
    let refusal = if !readable(req.path().as_bytes(), false, Place::Address) {
        Some(not_found(surface))
    } else if !form_is_readable(req.query_string().as_bytes(), Place::Address) {
        Some(bad_request(surface, "address"))
    } else {
        match body_kind(&req) {
            BodyKind::Other => None,
            kind => {
                // Read within the default payload limit (256 KiB), as the CSRF check does.
                let body = match req.extract::<web::Bytes>().await {
                    Ok(body) => body,
                    Err(e) if api => {
                        let too_large = e.as_response_error().status_code()
                            == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE;
                        let refusal = if too_large {
                            ApiError::payload_too_large()
                        } else {
                            ApiError::bad_request(format!(
                                "The request body could not be read: {e}"
                            ))
                        };
                        let response = match surface {
                            Surface::Scim if too_large => {
                                ScimError::payload_too_large().error_response()
                            }
                            Surface::Scim => {
                                ScimError::invalid_syntax(refusal.to_string()).error_response()
                            }
                            _ => refusal.error_response(),
                        };
                        return Ok(req.into_response(response).map_into_right_body());
                    }
                    Err(e) => return Err(e),
                };
                let ok = match kind {
                    BodyKind::Form => form_is_readable(&body, Place::Body),
                    _ => json_is_readable(&body),
                };
                req.set_payload(crate::auth::csrf::bytes_payload(body));
                (!ok).then(|| bad_request(surface, if api { "request body" } else { "form" }))
            }
        }
    };
    match refusal {
        Some(response) => {
            tracing::info!(
                status = response.status().as_u16(),
                "unreadable input refused"
            );
            Ok(req.into_response(response).map_into_right_body())
        }
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_broken_utf8_are_refused_in_the_address() {
        assert!(readable(b"/sso/saml/acme/metadata", false, Place::Address));
        assert!(readable(b"/caf%C3%A9", false, Place::Address));
        assert!(!readable(b"/sso/saml/%00/metadata", false, Place::Address));
        assert!(!readable(b"/x%0A", false, Place::Address));
        assert!(!readable(b"/x%7F", false, Place::Address));
        assert!(
            !readable(b"/x%C2%85", false, Place::Address),
            "C1 control NEL"
        );
        assert!(!readable(b"/x%FF%FE", false, Place::Address));
        assert!(readable(b"/100%", false, Place::Address), "a lone % stays");
        assert!(form_is_readable(b"q=ada+lovelace&page=2", Place::Address));
        assert!(!form_is_readable(b"q=%00", Place::Address));
        assert!(!form_is_readable(b"a%00=1", Place::Address), "names too");
        assert!(!form_is_readable(b"q=%0A", Place::Address));
    }

    #[test]
    fn forms_keep_newlines_but_not_other_controls_or_broken_utf8() {
        assert!(form_is_readable(
            b"metadata_xml=%3Cx%3E%0D%0A%09%3C%2Fx%3E&csrf_token=ab",
            Place::Body
        ));
        assert!(!form_is_readable(b"identifier=x%00", Place::Body));
        assert!(!form_is_readable(b"name=%1B%5B31m", Place::Body));
        assert!(!form_is_readable(b"name=%FF%FE", Place::Body));
        assert!(
            form_is_readable(b"name=%E2%80%AEevil", Place::Body),
            "bidi is the fields' business"
        );
    }

    #[test]
    fn json_strings_and_keys_are_checked_at_any_depth() {
        assert!(json_is_readable(
            br#"{"title":"Intro\ncall","n":[1,"a\tb"]}"#
        ));
        assert!(!json_is_readable(br#"{"title":"x\u0000"}"#));
        assert!(!json_is_readable(br#"{"a":[{"b":["\u0007"]}]}"#));
        assert!(!json_is_readable(br#"{"\u0000":1}"#));
        assert!(
            json_is_readable(b"{not json"),
            "left to the handler's JSON error"
        );
    }
}

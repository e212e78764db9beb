//! Discovery under both scopes, telling the truth; Groups and unknown resources are SCIM errors.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{RequestHelper, TestApp};

use super::{assert_scim_error, idp, nobody, provisioned, USER_SCHEMA};

#[actix_web::test]
async fn service_provider_config_resource_types_and_schemas_describe_what_is_there() {
    let app = TestApp::spawn().await;
    for scope in ["/scim/v2", "/scim"] {
        let r = nobody(&app)
            .get(&format!("{scope}/ServiceProviderConfig"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.content_type().starts_with("application/scim+json"));
        let c = r.json();
        assert_eq!(
            c["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
        );
        assert_eq!(c["patch"]["supported"], true);
        assert_eq!(c["filter"]["supported"], true);
        assert!(c["filter"]["maxResults"].as_i64().unwrap() > 0);
        for no in ["bulk", "sort", "etag", "changePassword"] {
            assert_eq!(c[no]["supported"], false, "{no}");
        }
        let schemes: Vec<&str> = c["authenticationSchemes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["type"].as_str().unwrap())
            .collect();
        assert_eq!(schemes, ["oauthbearertoken", "httpbasic"]);
        assert!(c["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{scope}/ServiceProviderConfig")));

        let r = nobody(&app).get(&format!("{scope}/ResourceTypes")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["totalResults"], 1);
        let user = &r.json()["Resources"][0];
        assert_eq!(
            (user["id"].as_str(), user["endpoint"].as_str()),
            (Some("User"), Some("/Users"))
        );
        assert_eq!(user["schema"], USER_SCHEMA);
        let r = nobody(&app)
            .get(&format!("{scope}/ResourceTypes/User"))
            .await;
        assert_eq!(r.json()["name"], "User");
        assert_scim_error(
            &nobody(&app)
                .get(&format!("{scope}/ResourceTypes/Group"))
                .await,
            404,
            None,
        );

        let r = nobody(&app).get(&format!("{scope}/Schemas")).await;
        assert_eq!(r.status, 200);
        let schema = &r.json()["Resources"][0];
        assert_eq!(schema["id"], USER_SCHEMA);
        let names: Vec<&str> = schema["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        for kept in ["userName", "name", "emails", "active"] {
            assert!(names.contains(&kept), "{kept} in {names:?}");
        }
        let r = nobody(&app)
            .get(&format!("{scope}/Schemas/{USER_SCHEMA}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_scim_error(
            &nobody(&app).get(&format!("{scope}/Schemas/urn:nope")).await,
            404,
            None,
        );
    }
}

#[actix_web::test]
async fn groups_are_not_supported_and_unknown_paths_are_scim_404s() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Groups Co").await;
    let as_idp = idp(&app, &p.secret);
    for scope in ["/scim/v2", "/scim"] {
        for (method, path) in [
            (Method::GET, "/Groups"),
            (Method::POST, "/Groups"),
            (Method::GET, "/Groups/0b6f4d1e-3c2a-4f5b-9d8e-7a6b5c4d3e2f"),
            (
                Method::PATCH,
                "/Groups/0b6f4d1e-3c2a-4f5b-9d8e-7a6b5c4d3e2f",
            ),
            (
                Method::DELETE,
                "/Groups/0b6f4d1e-3c2a-4f5b-9d8e-7a6b5c4d3e2f",
            ),
        ] {
            let r = as_idp
                .call(method.clone(), &format!("{scope}{path}"), None)
                .await;
            assert_scim_error(&r, 404, None);
            assert!(r.body.contains("Groups are not supported"), "{}", r.body);
        }
        // Without the secret, Groups is no more than a 401.
        assert_scim_error(
            &nobody(&app).get(&format!("{scope}/Groups")).await,
            401,
            None,
        );
        assert_scim_error(&as_idp.get(&format!("{scope}/Nothing")).await, 404, None);
        assert_scim_error(
            &as_idp.get(&format!("{scope}/Users/not-an-id")).await,
            404,
            None,
        );
        assert_scim_error(
            &as_idp
                .get(&format!(
                    "{scope}/Users/0b6f4d1e-3c2a-4f5b-9d8e-7a6b5c4d3e2f"
                ))
                .await,
            404,
            None,
        );
    }
}

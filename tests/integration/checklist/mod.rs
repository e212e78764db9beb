//! The dashboard's security checklist: each item turns from "needs attention" to "done" when
//! the thing is fixed through the product; members see only their own items; the one-click
//! switches work for admins and are refused for members; the page passes axe-core and fits a
//! phone.

mod company;
mod in_a_browser;
mod personal;

use crate::helpers::html::unescape;
use crate::helpers::{Browser, RequestHelper};

/// The checklist's items on the dashboard as (id, state), in page order.
pub fn checks(html: &str) -> Vec<(String, String)> {
    html.split("data-testid=\"check-item\" data-check=\"")
        .skip(1)
        .map(|rest| {
            let id = rest.split('"').next().unwrap_or_default().to_owned();
            let state = rest
                .split("data-state=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default()
                .to_owned();
            (id, state)
        })
        .collect()
}

/// The markup of one item, from its `<li>` to the next item (or the list's end).
pub fn item<'h>(html: &'h str, id: &str) -> &'h str {
    let start = html
        .find(&format!("data-check=\"{id}\""))
        .unwrap_or_else(|| panic!("no checklist item {id} in {html}"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("data-testid=\"check-item\"")
        .map(|i| i + 1)
        .or_else(|| rest.find("</section>"))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The state of one item: "ok" or "attention".
pub fn state(html: &str, id: &str) -> String {
    checks(html)
        .into_iter()
        .find(|(i, _)| i == id)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no checklist item {id}"))
}

/// The dashboard as this browser sees it.
pub async fn dashboard(b: &Browser) -> String {
    let r = b.get("/dashboard").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// Submits an item's one-click form as the browser would: its action and hidden fields (the
/// CSRF token is added by `post_form`).
pub async fn press_fix(b: &Browser, html: &str, id: &str) -> crate::helpers::Reply {
    let markup = item(html, id);
    let form_at = markup
        .find("data-testid=\"check-fix-form\"")
        .unwrap_or_else(|| panic!("item {id} has no one-click form: {markup}"));
    let form = &markup[..form_at];
    let action = form
        .rsplit("action=\"")
        .next()
        .and_then(|s| s.split('"').next())
        .expect("the form's action")
        .to_owned();
    let body = &markup[form_at..markup.find("</form>").expect("the form ends")];
    let fields: Vec<(String, String)> = body
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap_or_default().to_owned();
            let value = rest
                .split("value=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default();
            (name, unescape(value))
        })
        .filter(|(name, _)| name != "csrf_token")
        .collect();
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    b.post_form(&unescape(&action), &borrowed).await
}

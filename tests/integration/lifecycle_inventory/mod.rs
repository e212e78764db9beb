//! Credential lifecycle, the parts people look at: expiry badges, the "Inactive" section and
//! the dashboard's expiring list (issue 11 §1), and the admin credentials inventory with its
//! filters, sorting, CSV export and revocation of members' tokens (§3).

mod forms;
mod in_a_browser;
mod inventory;
mod lists;
mod revoke;

use crate::helpers::db::{pat_id, user};
use crate::helpers::fixtures::{key_id_of, sign_up, signed_in_user};
use crate::helpers::html::unescape;
use crate::helpers::{email, Person, RequestHelper, TestApp};

/// Company A: owner, two admins and a member, each signed in, with a PAT each and an API
/// key; company B: an owner with a PAT and a key (the outsider).
struct World<'a> {
    app: &'a TestApp,
    company: String,
    owner: Person,
    admin: Person,
    admin2: Person,
    member: Person,
    outsider: Person,
    /// Company A's key (30 days) and company B's.
    key: String,
    other_key: String,
    /// The clear PATs: owner (no expiry), admin (7 days), admin2 (30), member (30), outsider.
    owner_pat: String,
    admin_pat: String,
    admin2_pat: String,
    member_pat: String,
    outsider_pat: String,
}

impl<'a> World<'a> {
    async fn build(app: &'a TestApp) -> World<'a> {
        let owner = sign_up(app, "Inventory Inc", "Olga Owner", &email("olga")).await;
        let key = owner.browser.create_api_key("Team key", "30").await;
        let admin = signed_in_user(app, &key, "Ada", "admin").await;
        let admin2 = signed_in_user(app, &key, "Abe", "admin").await;
        let member = signed_in_user(app, &key, "Mia", "member").await;
        let owner_pat = owner.browser.create_pat("Olga forever", "none").await;
        let admin_pat = admin.browser.create_pat("Ada sync", "7").await;
        let admin2_pat = admin2.browser.create_pat("Abe backup", "30").await;
        let member_pat = member.browser.create_pat("Mia CRM", "30").await;

        let outsider = sign_up(app, "Other Org", "Otto Outsider", &email("otto")).await;
        let other_key = outsider.browser.create_api_key("Outsider key", "30").await;
        let outsider_pat = outsider.browser.create_pat("Otto secret tool", "30").await;
        World {
            app,
            company: owner.company_id.clone(),
            owner,
            admin,
            admin2,
            member,
            outsider,
            key,
            other_key,
            owner_pat,
            admin_pat,
            admin2_pat,
            member_pat,
            outsider_pat,
        }
    }

    fn pat(&self, who: &Person, name: &str) -> String {
        pat_id(self.app, &who.id, name)
    }

    fn key_id(&self) -> String {
        key_id_of(&self.key)
    }

    fn name_of(&self, who: &Person) -> String {
        user(self.app, &who.id).name
    }
}

/// One inventory row as the page shows it.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    kind: String,
    status: String,
    name: String,
    person: String,
    html: String,
}

fn attr(tag: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    tag.find(&marker)
        .and_then(|at| {
            let rest = tag.get(at + marker.len()..)?;
            Some(rest.get(..rest.find('"')?)?.to_owned())
        })
        .unwrap_or_default()
}

/// The text inside the element with this testid in `html` (up to the next tag).
fn text_in(html: &str, id: &str) -> String {
    crate::helpers::html::testid_text(html, id).unwrap_or_default()
}

/// The inventory rows of a page, in order.
fn rows(html: &str) -> Vec<Row> {
    html.split("<tr data-testid=\"credential-row\"")
        .skip(1)
        .map(|chunk| {
            let row = chunk
                .get(..chunk.find("</tr>").expect("row end"))
                .expect("row");
            let tag = row.get(..row.find('>').expect("tag end")).expect("tag");
            Row {
                id: attr(tag, "data-credential-id"),
                kind: attr(tag, "data-kind"),
                status: attr(tag, "data-status"),
                name: text_in(row, "credential-name"),
                person: unescape(text_in(row, "credential-person").trim()),
                html: row.to_owned(),
            }
        })
        .collect()
}

fn names(rows: &[Row]) -> Vec<String> {
    rows.iter().map(|r| r.name.clone()).collect()
}

/// The inventory as `who` sees it with this query string; must answer 200.
async fn inventory(who: &Person, query: &str) -> Vec<Row> {
    let r = who
        .browser
        .get(&format!("/settings/credentials?{query}"))
        .await;
    assert_eq!(
        r.status, 200,
        "GET /settings/credentials?{query}: {}",
        r.body
    );
    rows(&r.body)
}

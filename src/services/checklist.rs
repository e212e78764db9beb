//! The security checklist the dashboard opens with: meetergo's security guide (strong password
//! or SSO, reviewed permissions, departed members removed, keys kept short-lived, invitation
//! required), computed live from what the console holds.
//!
//! `gather` reads every fact in one database closure; `assess` turns facts into items and is
//! pure, so each rule has a unit test without a database. Owners and admins get the company's
//! items and their own; members only their own. A fix that is a single switch (Require
//! Invitation, required two-factor) posts to the handler that already owns that switch, so the
//! rule and the permission stay where they are (`authz.rs`, `services::team`,
//! `services::two_factor`).

use chrono::{Duration, NaiveDateTime};

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{
    Authenticator, Company, CompanyDomain, CredentialKind, CredentialStatus, Identity,
    InventoryFilter, InventoryItem, InventorySort, PersonalAccessToken, SamlConfig, User,
};
use crate::db::{Db, DbConnection};
use crate::domain::expiry::WARN_DAYS;
use crate::domain::{Expiry, Role, UserStatus};
use crate::error::AppError;
use crate::paths;

/// Members who have not signed in for this many days are listed for review.
pub const INACTIVE_DAYS: i64 = 90;
/// Credentials not used for this many days (or never, and at least this old) are listed.
pub const UNUSED_DAYS: i64 = 30;
/// How many names an item lists before it says "and N more".
const NAMES_SHOWN: usize = 5;
/// In a small team up to this many people may hold owner or admin rights...
const SMALL_TEAM_PRIVILEGED: usize = 3;
/// ...in a larger one at most one in this many.
const PRIVILEGED_SHARE: usize = 3;

/// Whether an item is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ok,
    Attention,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Attention => "attention",
        }
    }

    /// What the page says, so the state never rests on colour alone.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "Done",
            Self::Attention => "Needs attention",
        }
    }
}

/// The one click that fixes an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// A page (or a place on it) where the fix is made.
    Link { href: String, label: String },
    /// A single switch, posted to the handler that owns it with these fields (plus CSRF).
    Switch {
        action: &'static str,
        fields: Vec<(&'static str, String)>,
        label: &'static str,
    },
}

/// One name an item lists: an inactive member, an unused token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    /// Where to act on it.
    pub href: String,
    /// Last sign-in or last use (`None`: never).
    pub last_seen: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Stable id for tests and anchors: `require-invitation`, `inactive-members`, …
    pub id: &'static str,
    pub title: &'static str,
    pub state: State,
    /// One line in the product's words.
    pub summary: String,
    /// Present when the item needs attention and the viewer can do something about it.
    pub fix: Option<Fix>,
    pub names: Vec<Named>,
    /// How many are not listed in `names`.
    pub more: usize,
}

impl Item {
    fn ok(id: &'static str, title: &'static str, summary: impl Into<String>) -> Self {
        Self {
            id,
            title,
            state: State::Ok,
            summary: summary.into(),
            fix: None,
            names: Vec::new(),
            more: 0,
        }
    }

    fn attention(
        id: &'static str,
        title: &'static str,
        summary: impl Into<String>,
        fix: Option<Fix>,
    ) -> Self {
        Self {
            id,
            title,
            state: State::Attention,
            summary: summary.into(),
            fix,
            names: Vec::new(),
            more: 0,
        }
    }

    fn listing(mut self, mut names: Vec<Named>) -> Self {
        self.more = names.len().saturating_sub(NAMES_SHOWN);
        names.truncate(NAMES_SHOWN);
        self.names = names;
        self
    }

    pub fn is_ok(&self) -> bool {
        self.state == State::Ok
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// The company's items, for owners and admins; `None` for members.
    pub company: Option<Vec<Item>>,
    pub personal: Vec<Item>,
}

impl Checklist {
    fn all(&self) -> impl Iterator<Item = &Item> {
        self.company.iter().flatten().chain(self.personal.iter())
    }

    pub fn done(&self) -> usize {
        self.all().filter(|i| i.is_ok()).count()
    }

    pub fn total(&self) -> usize {
        self.all().count()
    }
}

/// The company's side, read for owners and admins only.
#[derive(Debug, Clone)]
pub struct CompanyFacts {
    pub company: Company,
    pub saml_configured: bool,
    /// Active members, the viewer included.
    pub members: Vec<User>,
    pub domains: Vec<CompanyDomain>,
    /// Working credentials of the company (every member's PATs and the API keys) expiring
    /// within the warning days.
    pub expiring: usize,
    /// Working credentials unused for `UNUSED_DAYS`, with how many there are in all.
    pub unused: Vec<InventoryItem>,
    pub unused_total: usize,
}

/// The viewer's own side.
#[derive(Debug, Clone)]
pub struct PersonalFacts {
    pub has_password: bool,
    pub linked_identities: usize,
    pub two_factor: bool,
    /// The company's SAML is configured and enforced: members sign in only through it.
    pub sso_only: bool,
    pub company_requires_two_factor: bool,
    pub tokens: Vec<PersonalAccessToken>,
}

#[derive(Debug, Clone)]
pub struct Facts {
    pub viewer: User,
    pub company: Option<CompanyFacts>,
    pub personal: PersonalFacts,
}

/// The viewer's checklist at `now`.
pub async fn for_viewer(db: &Db, viewer: User, now: NaiveDateTime) -> Result<Checklist, AppError> {
    let facts = db.run(move |conn| gather(conn, viewer, now)).await?;
    Ok(assess(&facts, now))
}

fn sees_company(viewer: &User) -> bool {
    authorize(Actor::Member(viewer), Action::ViewAdminArea).is_ok()
}

/// Every fact the checklist needs, in one closure on one connection. Plain reads, not one
/// snapshot: a write between two of them can make the page a moment out of date, never wrong on
/// the next load, and a write transaction here would queue behind writers on SQLite.
pub fn gather(
    conn: &mut DbConnection,
    viewer: User,
    now: NaiveDateTime,
) -> Result<Facts, AppError> {
    let company = Company::find(conn, &viewer.company_id)?;
    let saml_configured = SamlConfig::find(conn, &company.id)?.is_some();
    let personal = PersonalFacts {
        has_password: viewer.password_hash.is_some(),
        linked_identities: Identity::of_user(conn, &viewer.id)?.len(),
        two_factor: Authenticator::is_enrolled(conn, &viewer.id)?,
        sso_only: saml_configured && company.sso_enforced && viewer.role() != Role::Owner,
        company_requires_two_factor: company.require_two_factor,
        tokens: PersonalAccessToken::list_for_user(conn, &viewer.id)?,
    };
    let company = if sees_company(&viewer) {
        let working = |expiring_by, unused_since| InventoryFilter {
            person: None,
            kind: None,
            status: Some(CredentialStatus::Active),
            expiring_by,
            unused_since,
            sort: InventorySort::LastUsed,
            descending: false,
            now,
        };
        // The database narrows to the days around the threshold; the badge's rule decides.
        let (soon, _) = InventoryItem::search(
            conn,
            &company.id,
            &working(Some(now + Duration::days(WARN_DAYS + 1)), None),
            10_000,
            0,
        )?;
        let expiring = soon
            .iter()
            .filter(|c| Expiry::of(c.expires_at, now).is_soon())
            .count();
        let (unused, unused_total) = InventoryItem::search(
            conn,
            &company.id,
            &working(None, Some(now - Duration::days(UNUSED_DAYS))),
            i64::try_from(NAMES_SHOWN).unwrap_or(5),
            0,
        )?;
        Some(CompanyFacts {
            saml_configured,
            members: User::active_in_company(conn, &company.id)?,
            domains: CompanyDomain::of_company(conn, &company.id)?,
            expiring,
            unused,
            unused_total: usize::try_from(unused_total).unwrap_or(0),
            company,
        })
    } else {
        None
    };
    Ok(Facts {
        viewer,
        company,
        personal,
    })
}

/// The checklist the facts make at `now`.
pub fn assess(facts: &Facts, now: NaiveDateTime) -> Checklist {
    Checklist {
        company: facts
            .company
            .as_ref()
            .map(|c| company_items(&facts.viewer, c, now)),
        personal: personal_items(&facts.personal, now),
    }
}

fn link(href: impl Into<String>, label: impl Into<String>) -> Option<Fix> {
    Some(Fix::Link {
        href: href.into(),
        label: label.into(),
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn company_items(viewer: &User, c: &CompanyFacts, now: NaiveDateTime) -> Vec<Item> {
    vec![
        sso(viewer, c),
        require_invitation(viewer, c),
        two_factor_required(viewer, c),
        inactive_members(viewer, c, now),
        admins(c),
        expiring_credentials(c),
        unused_credentials(c),
        token_lifetime(viewer, c),
        domains(c),
    ]
}

fn sso(viewer: &User, c: &CompanyFacts) -> Item {
    const TITLE: &str = "Single sign-on configured and enforced";
    let owner_note = match authorize(Actor::Member(viewer), Action::ManageSso) {
        Ok(()) => String::new(),
        Err(denied) => format!(" {}", denied.0),
    };
    match (c.saml_configured, c.company.sso_enforced) {
        (true, true) => Item::ok(
            "sso",
            TITLE,
            "Members sign in only through your identity provider.",
        ),
        (true, false) => Item::attention(
            "sso",
            TITLE,
            format!("SAML is set up but not enforced: members can still sign in with a password.{owner_note}"),
            link(paths::SSO_SETTINGS, "Enforce single sign-on"),
        ),
        (false, _) => Item::attention(
            "sso",
            TITLE,
            format!("Members sign in with passwords your identity provider does not control.{owner_note}"),
            link(paths::SSO_SETTINGS, "Set up single sign-on"),
        ),
    }
}

fn require_invitation(viewer: &User, c: &CompanyFacts) -> Item {
    const TITLE: &str = "Require Invitation on";
    if c.company.require_invitation {
        return Item::ok(
            "require-invitation",
            TITLE,
            "Only people you invite can join your company.",
        );
    }
    // The company settings form saves name, switch and domains together: the fix sends the
    // current name and domains unchanged, so only the switch moves.
    let fix = authorize(Actor::Member(viewer), Action::ViewAdminArea)
        .is_ok()
        .then(|| Fix::Switch {
            action: paths::COMPANY,
            fields: vec![
                ("name", c.company.name.clone()),
                ("require_invitation", "on".into()),
                ("allowed_domains", c.company.allowed_domains.clone()),
            ],
            label: "Turn on Require Invitation",
        });
    Item::attention(
        "require-invitation",
        TITLE,
        if c.company.domains().is_empty() {
            "Once you claim a domain, anyone with a confirmed address there joins without an invitation."
        } else {
            "Anyone with a confirmed address at your company's domains joins without an invitation."
        },
        fix,
    )
}

fn two_factor_required(viewer: &User, c: &CompanyFacts) -> Item {
    const TITLE: &str = "Two-factor required";
    if c.company.require_two_factor {
        return Item::ok(
            "two-factor-required",
            TITLE,
            "Everyone who signs in with a password also enters a code from their app.",
        );
    }
    let fix = authorize(Actor::Member(viewer), Action::ViewAdminArea)
        .is_ok()
        .then(|| Fix::Switch {
            action: paths::COMPANY_TWO_FACTOR,
            fields: vec![("require_two_factor", "on".into())],
            label: "Require two-factor",
        });
    Item::attention(
        "two-factor-required",
        TITLE,
        "A stolen password is enough to sign in to your company.",
        fix,
    )
}

/// Active members other than the viewer whose last sign-in (or, never signed in, whose
/// account) is older than `INACTIVE_DAYS`. The viewer is here, so never inactive.
fn inactive_members(viewer: &User, c: &CompanyFacts, now: NaiveDateTime) -> Item {
    const TITLE: &str = "No inactive members";
    let cutoff = now - Duration::days(INACTIVE_DAYS);
    let inactive: Vec<Named> = c
        .members
        .iter()
        .filter(|u| u.id != viewer.id && u.status() == UserStatus::Active)
        .filter(|u| u.last_sign_in_at.unwrap_or(u.created_at) <= cutoff)
        .map(|u| Named {
            name: u.name.clone(),
            href: if authorize(Actor::Member(viewer), Action::Offboard(u)).is_ok() {
                paths::member_offboard(&u.id)
            } else {
                paths::MEMBERS.to_owned()
            },
            last_seen: u.last_sign_in_at,
        })
        .collect();
    if inactive.is_empty() {
        return Item::ok(
            "inactive-members",
            TITLE,
            format!("Everyone has signed in within the last {INACTIVE_DAYS} days."),
        );
    }
    let n = inactive.len();
    Item::attention(
        "inactive-members",
        TITLE,
        format!(
            "{} not signed in for {INACTIVE_DAYS} days. Offboard those who left.",
            plural(n, "member has", "members have")
        ),
        link(paths::MEMBERS, "Review members"),
    )
    .listing(inactive)
}

/// The rule: someone besides the owner can step in (at least one admin once there are two
/// people), and admin rights stay with few (at most three people, or a third of the company
/// when that is more, hold owner or admin).
fn admins(c: &CompanyFacts) -> Item {
    const TITLE: &str = "A few admins, not many";
    let people = c.members.len();
    let admins = c.members.iter().filter(|u| u.role() == Role::Admin).count();
    let privileged = c.members.iter().filter(|u| u.role().is_admin()).count();
    let allowed = SMALL_TEAM_PRIVILEGED.max(people / PRIVILEGED_SHARE);
    if people >= 2 && admins == 0 {
        return Item::attention(
            "admins",
            TITLE,
            "Only the owner can manage the company. Make a trusted member admin so someone can step in.",
            link(paths::MEMBERS, "Choose an admin"),
        );
    }
    if privileged > allowed {
        return Item::attention(
            "admins",
            TITLE,
            format!(
                "{privileged} of {people} members are owner or admin. Keep admin rights to {allowed} people or fewer."
            ),
            link(paths::MEMBERS, "Review roles"),
        );
    }
    Item::ok(
        "admins",
        TITLE,
        if people < 2 {
            "You are the only member so far.".to_owned()
        } else {
            format!(
                "{} besides the owner, of {people} members.",
                plural(admins, "admin", "admins")
            )
        },
    )
}

fn inventory(query: &str) -> String {
    format!("{}?{query}", paths::CREDENTIALS)
}

fn expiring_credentials(c: &CompanyFacts) -> Item {
    const TITLE: &str = "No credentials about to expire";
    if c.expiring == 0 {
        return Item::ok(
            "expiring-credentials",
            TITLE,
            format!("No token or API key of the company expires within {WARN_DAYS} days."),
        );
    }
    Item::attention(
        "expiring-credentials",
        TITLE,
        format!(
            "{} within {WARN_DAYS} days. Regenerate those still in use before integrations break.",
            plural(c.expiring, "credential expires", "credentials expire")
        ),
        link(
            inventory(&format!("status=active&expiring_within={WARN_DAYS}")),
            "See expiring credentials",
        ),
    )
}

fn unused_credentials(c: &CompanyFacts) -> Item {
    const TITLE: &str = "No unused credentials";
    if c.unused_total == 0 {
        return Item::ok(
            "unused-credentials",
            TITLE,
            format!("Every working token and API key was used within {UNUSED_DAYS} days."),
        );
    }
    let names = c
        .unused
        .iter()
        .map(|i| Named {
            name: match i.kind {
                CredentialKind::Pat => format!("{} ({})", i.name, i.person.name),
                CredentialKind::ApiKey => format!("{} (API key)", i.name),
            },
            href: inventory(&format!("status=active&unused_for={UNUSED_DAYS}")),
            last_seen: i.last_used_at,
        })
        .collect();
    let mut item = Item::attention(
        "unused-credentials",
        TITLE,
        format!(
            "{} not used for {UNUSED_DAYS} days. Revoke what nobody needs.",
            plural(c.unused_total, "credential was", "credentials were")
        ),
        link(
            inventory(&format!("status=active&unused_for={UNUSED_DAYS}")),
            "Review unused credentials",
        ),
    )
    .listing(names);
    item.more = c.unused_total.saturating_sub(item.names.len());
    item
}

fn token_lifetime(viewer: &User, c: &CompanyFacts) -> Item {
    const TITLE: &str = "Tokens expire by policy";
    if let Some(days) = c.company.max_pat_lifetime_days {
        return Item::ok(
            "token-lifetime",
            TITLE,
            format!("Personal access tokens live at most {days} days; API keys always expire."),
        );
    }
    let owner_note = match authorize(Actor::Member(viewer), Action::ManageCredentialPolicy) {
        Ok(()) => String::new(),
        Err(denied) => format!(" {}", denied.0),
    };
    Item::attention(
        "token-lifetime",
        TITLE,
        format!("Personal access tokens may be made without an expiry date and work until revoked.{owner_note}"),
        link(paths::COMPANY, "Set a maximum token lifetime"),
    )
}

fn domains(c: &CompanyFacts) -> Item {
    const TITLE: &str = "Domains verified";
    let pending: Vec<&CompanyDomain> = c.domains.iter().filter(|d| !d.is_verified()).collect();
    if pending.is_empty() {
        return Item::ok(
            "domains",
            TITLE,
            if c.domains.is_empty() {
                "Your company claims no email domain.".to_owned()
            } else {
                "Every domain your company claims is proven.".to_owned()
            },
        );
    }
    let list: Vec<&str> = pending.iter().map(|d| d.domain.as_str()).collect();
    Item::attention(
        "domains",
        TITLE,
        format!(
            "Waiting for proof: {}. Until then nobody joins through {}.",
            list.join(", "),
            if list.len() == 1 { "it" } else { "them" }
        ),
        link(paths::COMPANY, "Verify domains"),
    )
}

fn personal_items(p: &PersonalFacts, now: NaiveDateTime) -> Vec<Item> {
    let working: Vec<&PersonalAccessToken> = p
        .tokens
        .iter()
        .filter(|t| t.status(now) == CredentialStatus::Active)
        .collect();
    vec![
        sign_in(p),
        two_factor(p),
        own_expiring(&working, now),
        own_unused(&working, now),
        own_without_expiry(&working),
    ]
}

fn sign_in(p: &PersonalFacts) -> Item {
    const TITLE: &str = "Password or single sign-on";
    let summary = if p.sso_only {
        "You sign in through your company's single sign-on."
    } else if p.has_password && p.linked_identities > 0 {
        "You sign in with your password or a linked single sign-on account."
    } else if p.has_password {
        "You sign in with your password."
    } else {
        "You sign in with a linked single sign-on account."
    };
    Item::ok("sign-in", TITLE, summary)
}

fn two_factor(p: &PersonalFacts) -> Item {
    const TITLE: &str = "Two-factor on";
    if p.two_factor {
        return Item::ok(
            "two-factor",
            TITLE,
            "A password alone does not get anyone into your account.",
        );
    }
    if p.sso_only || !p.has_password {
        return Item::ok(
            "two-factor",
            TITLE,
            "You sign in without a password here; your identity provider asks for the second factor.",
        );
    }
    Item::attention(
        "two-factor",
        TITLE,
        if p.company_requires_two_factor {
            "Your company requires two-factor: set it up now rather than at your next sign-in."
        } else {
            "Anyone with your password can sign in as you."
        },
        link(paths::PROFILE_TWO_FACTOR, "Set up two-factor"),
    )
}

fn token_names(
    tokens: &[&PersonalAccessToken],
    href: fn(&PersonalAccessToken) -> String,
) -> Vec<Named> {
    tokens
        .iter()
        .map(|t| Named {
            name: t.name.clone(),
            href: href(t),
            last_seen: t.last_used_at,
        })
        .collect()
}

/// One token: its own page; several: the list.
fn one_or_list(tokens: &[&PersonalAccessToken], one: fn(&PersonalAccessToken) -> String) -> String {
    match tokens {
        [t] => one(t),
        _ => paths::API_TOKENS.to_owned(),
    }
}

fn regenerate(t: &PersonalAccessToken) -> String {
    paths::api_token_regenerate(&t.id)
}

fn detail(t: &PersonalAccessToken) -> String {
    paths::api_token(&t.id)
}

fn own_expiring(working: &[&PersonalAccessToken], now: NaiveDateTime) -> Item {
    const TITLE: &str = "Your tokens are not about to expire";
    let soon: Vec<&PersonalAccessToken> = working
        .iter()
        .copied()
        .filter(|t| Expiry::of(t.expires_at, now).is_soon())
        .collect();
    if soon.is_empty() {
        return Item::ok(
            "own-expiring",
            TITLE,
            format!("None of your tokens expires within {WARN_DAYS} days."),
        );
    }
    Item::attention(
        "own-expiring",
        TITLE,
        format!(
            "{} within {WARN_DAYS} days; regenerate {} still in use.",
            plural(soon.len(), "token expires", "tokens expire"),
            if soon.len() == 1 {
                "it if it is"
            } else {
                "those"
            }
        ),
        match soon.as_slice() {
            [t] => link(regenerate(t), format!("Regenerate “{}”", t.name)),
            _ => link("#expiring-credentials", "Regenerate them"),
        },
    )
}

fn own_unused(working: &[&PersonalAccessToken], now: NaiveDateTime) -> Item {
    const TITLE: &str = "Your tokens are in use";
    let cutoff = now - Duration::days(UNUSED_DAYS);
    let unused: Vec<&PersonalAccessToken> = working
        .iter()
        .copied()
        .filter(|t| t.last_used_at.unwrap_or(t.created_at) <= cutoff)
        .collect();
    if unused.is_empty() {
        return Item::ok(
            "own-unused",
            TITLE,
            format!("Each of your working tokens was used within {UNUSED_DAYS} days, or is newer."),
        );
    }
    Item::attention(
        "own-unused",
        TITLE,
        format!(
            "{} not used for {UNUSED_DAYS} days. Revoke what you no longer need.",
            plural(unused.len(), "token was", "tokens were")
        ),
        link(one_or_list(&unused, detail), "Review your tokens"),
    )
    .listing(token_names(&unused, detail))
}

fn own_without_expiry(working: &[&PersonalAccessToken]) -> Item {
    const TITLE: &str = "Your tokens have an expiry date";
    let forever: Vec<&PersonalAccessToken> = working
        .iter()
        .copied()
        .filter(|t| t.expires_at.is_none())
        .collect();
    if forever.is_empty() {
        return Item::ok(
            "own-no-expiry",
            TITLE,
            "Each of your working tokens stops working on a set date.",
        );
    }
    Item::attention(
        "own-no-expiry",
        TITLE,
        format!(
            "{} until revoked. Regenerate with an expiry date.",
            plural(forever.len(), "token works", "tokens work")
        ),
        link(
            one_or_list(&forever, regenerate),
            match forever.as_slice() {
                [t] => format!("Regenerate “{}” with an expiry", t.name),
                _ => "Review your tokens".to_owned(),
            },
        ),
    )
    .listing(token_names(&forever, detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CompanyId, TokenId, UserId};

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(day))))
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default()
    }

    fn company() -> Company {
        Company {
            id: CompanyId::new(),
            name: "Check GmbH".into(),
            slug: "check".into(),
            require_invitation: false,
            allowed_domains: "check.example".into(),
            created_at: at(0),
            sso_enforced: false,
            require_two_factor: false,
            max_pat_lifetime_days: None,
            members_may_create_pats: true,
        }
    }

    fn person(company: &Company, name: &str, role: Role, last_sign_in: Option<u32>) -> User {
        User {
            id: UserId::new(),
            company_id: company.id.clone(),
            email: format!("{name}@check.example"),
            name: name.into(),
            role,
            status: UserStatus::Active,
            password_hash: Some("hash".into()),
            created_at: at(0),
            updated_at: at(0),
            last_sign_in_at: last_sign_in.map(at),
            timezone: "UTC".into(),
            email_verified_at: Some(at(0)),
        }
    }

    fn token(name: &str, expires: Option<u32>, last_used: Option<u32>) -> PersonalAccessToken {
        PersonalAccessToken {
            id: TokenId::new(),
            user_id: UserId::new(),
            name: name.into(),
            token_hash: String::new(),
            prefix: "rgo-abc".into(),
            created_at: at(0),
            expires_at: expires.map(at),
            last_used_at: last_used.map(at),
            last_used_ip: None,
            revoked_at: None,
            replaces: None,
            replaced_by: None,
            superseded_at: None,
            rotation_alerted_at: None,
            note: None,
        }
    }

    fn personal() -> PersonalFacts {
        PersonalFacts {
            has_password: true,
            linked_identities: 0,
            two_factor: false,
            sso_only: false,
            company_requires_two_factor: false,
            tokens: Vec::new(),
        }
    }

    fn facts(viewer: User, company: Company, members: Vec<User>) -> Facts {
        Facts {
            company: Some(CompanyFacts {
                company,
                saml_configured: false,
                members,
                domains: Vec::new(),
                expiring: 0,
                unused: Vec::new(),
                unused_total: 0,
            }),
            viewer,
            personal: personal(),
        }
    }

    fn item<'a>(list: &'a Checklist, id: &str) -> &'a Item {
        list.all()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("no item {id}"))
    }

    #[test]
    fn a_member_gets_only_their_own_items() {
        let c = company();
        let me = person(&c, "max", Role::Member, Some(0));
        let list = assess(
            &Facts {
                viewer: me,
                company: None,
                personal: personal(),
            },
            at(1),
        );
        assert!(list.company.is_none());
        let ids: Vec<&str> = list.personal.iter().map(|i| i.id).collect();
        assert_eq!(
            ids,
            [
                "sign-in",
                "two-factor",
                "own-expiring",
                "own-unused",
                "own-no-expiry"
            ]
        );
        assert_eq!((list.done(), list.total()), (4, 5));
    }

    #[test]
    fn the_switches_post_to_their_own_handlers_with_the_settings_unchanged() {
        let c = company();
        let owner = person(&c, "olga", Role::Owner, Some(0));
        let list = assess(&facts(owner.clone(), c.clone(), vec![owner]), at(1));
        let Some(Fix::Switch { action, fields, .. }) = &item(&list, "require-invitation").fix
        else {
            panic!("a switch")
        };
        assert_eq!(*action, paths::COMPANY);
        assert!(fields.contains(&("name", c.name.clone())));
        assert!(fields.contains(&("allowed_domains", c.allowed_domains.clone())));
        assert!(fields.contains(&("require_invitation", "on".into())));
        assert!(matches!(
            &item(&list, "two-factor-required").fix,
            Some(Fix::Switch {
                action: paths::COMPANY_TWO_FACTOR,
                ..
            })
        ));

        let mut on = c;
        on.require_invitation = true;
        on.require_two_factor = true;
        let owner = person(&on, "olga", Role::Owner, Some(0));
        let list = assess(&facts(owner.clone(), on, vec![owner]), at(1));
        for id in ["require-invitation", "two-factor-required"] {
            assert!(item(&list, id).is_ok() && item(&list, id).fix.is_none());
        }
    }

    #[test]
    fn members_silent_for_ninety_days_are_listed_but_never_the_viewer() {
        let c = company();
        let owner = person(&c, "olga", Role::Owner, Some(0));
        let quiet = person(&c, "quinn", Role::Member, Some(0));
        let never = person(&c, "nia", Role::Member, None);
        let members = vec![owner.clone(), quiet, never];
        let list = assess(&facts(owner.clone(), c.clone(), members.clone()), at(89));
        assert_eq!(item(&list, "inactive-members").state, State::Ok);

        let list = assess(&facts(owner, c, members), at(91));
        let inactive = item(&list, "inactive-members");
        assert_eq!(inactive.state, State::Attention);
        let names: Vec<&str> = inactive.names.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["quinn", "nia"]);
        assert!(inactive.names[0].href.ends_with("/offboard"));
        assert!(inactive.summary.starts_with("2 members have"));
    }

    #[test]
    fn admins_need_one_besides_the_owner_and_no_more_than_a_few() {
        let c = company();
        let owner = person(&c, "olga", Role::Owner, Some(0));
        let team = |admins: usize, members: usize| {
            let mut all = vec![owner.clone()];
            all.extend((0..admins).map(|i| person(&c, &format!("a{i}"), Role::Admin, Some(0))));
            all.extend((0..members).map(|i| person(&c, &format!("m{i}"), Role::Member, Some(0))));
            let list = assess(&facts(owner.clone(), c.clone(), all), at(1));
            item(&list, "admins").state
        };
        assert_eq!(team(0, 0), State::Ok, "alone, nobody to make admin");
        assert_eq!(team(0, 1), State::Attention, "nobody can step in");
        assert_eq!(team(1, 1), State::Ok);
        assert_eq!(team(2, 0), State::Ok, "three of three is still a few");
        assert_eq!(team(3, 0), State::Attention, "four of four");
        assert_eq!(team(3, 9), State::Ok, "four of thirteen");
        assert_eq!(team(5, 9), State::Attention, "six of fifteen");
    }

    #[test]
    fn an_admin_sees_who_changes_sso_and_the_token_policy() {
        let c = company();
        let admin = person(&c, "ari", Role::Admin, Some(0));
        let list = assess(&facts(admin.clone(), c, vec![admin]), at(1));
        assert!(item(&list, "sso").summary.contains("Only the owner"));
        assert!(item(&list, "token-lifetime")
            .summary
            .contains("Only the owner"));
    }

    #[test]
    fn own_tokens_unused_expiring_or_without_expiry_need_attention() {
        let c = company();
        let me = person(&c, "max", Role::Member, Some(0));
        let mut p = personal();
        p.two_factor = true;
        p.tokens = vec![
            token("fresh", Some(60), Some(40)),
            token("soon", Some(50), Some(40)),
            token("forever", None, Some(40)),
            token("idle", Some(200), None),
        ];
        let list = assess(
            &Facts {
                viewer: me,
                company: None,
                personal: p,
            },
            at(41),
        );
        let names = |id| -> Vec<String> {
            item(&list, id)
                .names
                .iter()
                .map(|n| n.name.clone())
                .collect()
        };
        assert_eq!(item(&list, "own-expiring").state, State::Attention);
        assert!(matches!(&item(&list, "own-expiring").fix,
            Some(Fix::Link { href, .. }) if href.ends_with("/regenerate")));
        assert_eq!(names("own-unused"), ["idle"]);
        assert_eq!(names("own-no-expiry"), ["forever"]);
        assert_eq!(item(&list, "two-factor").state, State::Ok);
    }

    #[test]
    fn two_factor_is_not_asked_of_who_signs_in_only_through_sso() {
        let mut p = personal();
        p.sso_only = true;
        assert_eq!(two_factor(&p).state, State::Ok);
        let mut p = personal();
        p.company_requires_two_factor = true;
        let item = two_factor(&p);
        assert_eq!(item.state, State::Attention);
        assert!(item.summary.contains("requires"));
    }
}
